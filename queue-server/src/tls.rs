//! TLS on the hall network. Unless the hall brings its own certificate,
//! the server keeps a hall CA of its own (made once; its key readable by
//! the service only) and a server certificate signed by it for its names
//! and addresses, renewed ahead of its expiry while it runs. Devices pin
//! the CA (`ca.crt`); staff browsers install it once.

use std::io::Write;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};

use jiff::Timestamp;
use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose, SanType,
};
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use sha2::{Digest, Sha256};

use crate::config::TlsConfig;

const CA_CERT: &str = "ca.crt";
const CA_KEY: &str = "ca.key";
const SERVER_CERT: &str = "server.crt";
const SERVER_KEY: &str = "server.key";
/// The hall CA is made once and lasts; only server certificates renew.
const CA_DAYS: i64 = 20 * 365;

/// What a manager (and an installer) needs to know of the hall's TLS.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct TlsStatus {
    /// SHA-256 of the hall CA's certificate (absent with the hall's own
    /// certificate): compare it with what a device or browser shows.
    pub ca_fingerprint: Option<String>,
    #[schema(value_type = String, format = DateTime)]
    pub not_after: Timestamp,
    /// The hall supplied its own certificate: it is not renewed here.
    pub own_certificate: bool,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub renewed_at: Option<Timestamp>,
}

/// The certificate the server presents, swapped when it is renewed.
#[derive(Debug)]
struct Current(RwLock<Arc<CertifiedKey>>);

impl ResolvesServerCert for Current {
    fn resolve(&self, _hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(self.0.read().unwrap_or_else(|p| p.into_inner()).clone())
    }
}

pub struct HallTls {
    cfg: TlsConfig,
    dir: PathBuf,
    current: Arc<Current>,
    status: RwLock<TlsStatus>,
}

impl HallTls {
    /// Loads the hall's certificate, or makes the CA and a certificate the
    /// first time; a certificate due for renewal is renewed now.
    pub fn prepare(cfg: &TlsConfig, dir: &Path, now: Timestamp) -> anyhow::Result<HallTls> {
        let (key, status) = match &cfg.own {
            Some((cert, key)) => own_certificate(cert, key)?,
            None => {
                std::fs::create_dir_all(dir).map_err(|e| {
                    anyhow::anyhow!(
                        "cannot create the TLS folder {}: {e}; create it and let the service user write there",
                        dir.display()
                    )
                })?;
                let fingerprint = ensure_ca(dir, now)?;
                let mut renewed_at = None;
                if due(dir, cfg, now)? {
                    let replacing = dir.join(SERVER_CERT).exists();
                    issue_server_cert(dir, cfg, now)?;
                    if replacing {
                        tracing::warn!("renewed the hall's server certificate ahead of its expiry");
                        renewed_at = Some(now);
                    }
                }
                let (key, not_after) = load(&dir.join(SERVER_CERT), &dir.join(SERVER_KEY))?;
                (
                    key,
                    TlsStatus {
                        ca_fingerprint: Some(fingerprint),
                        not_after,
                        own_certificate: false,
                        renewed_at,
                    },
                )
            }
        };
        Ok(HallTls {
            cfg: cfg.clone(),
            dir: dir.to_path_buf(),
            current: Arc::new(Current(RwLock::new(Arc::new(key)))),
            status: RwLock::new(status),
        })
    }

    pub fn acceptor(&self) -> tokio_rustls::TlsAcceptor {
        let mut config = rustls::ServerConfig::builder_with_provider(
            rustls::crypto::aws_lc_rs::default_provider().into(),
        )
        .with_safe_default_protocol_versions()
        .expect("ring supports the default protocol versions")
        .with_no_client_auth()
        .with_cert_resolver(self.current.clone());
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        tokio_rustls::TlsAcceptor::from(Arc::new(config))
    }

    pub fn status(&self) -> TlsStatus {
        self.status
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Renews the server certificate when it expires within
    /// `renew_before_days`; new connections get the new one at once.
    /// Answers the new expiry when it renewed.
    pub fn renew_if_due(&self, now: Timestamp) -> anyhow::Result<Option<Timestamp>> {
        if self.cfg.own.is_some() || !due(&self.dir, &self.cfg, now)? {
            return Ok(None);
        }
        issue_server_cert(&self.dir, &self.cfg, now)?;
        let (key, not_after) = load(&self.dir.join(SERVER_CERT), &self.dir.join(SERVER_KEY))?;
        *self.current.0.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(key);
        let mut status = self.status.write().unwrap_or_else(|p| p.into_inner());
        status.not_after = not_after;
        status.renewed_at = Some(now);
        Ok(Some(not_after))
    }
}

/// Makes the hall CA unless it exists; answers its fingerprint.
fn ensure_ca(dir: &Path, now: Timestamp) -> anyhow::Result<String> {
    let (cert_path, key_path) = (dir.join(CA_CERT), dir.join(CA_KEY));
    if !cert_path.exists() {
        let key = KeyPair::generate()?;
        let mut params = CertificateParams::default();
        params
            .distinguished_name
            .push(DnType::CommonName, "Hall queue appliance CA");
        params
            .distinguished_name
            .push(DnType::OrganizationName, "Hall queue appliance");
        params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        params.not_before = offset(now, -1)?;
        params.not_after = offset(now, CA_DAYS)?;
        let cert = params.self_signed(&key)?;
        write_private(&key_path, key.serialize_pem().as_bytes())?;
        std::fs::write(&cert_path, cert.pem())?;
        tracing::info!(ca = %cert_path.display(), "made the hall CA");
    }
    let pem = std::fs::read(&cert_path)?;
    let der = CertificateDer::from_pem_slice(&pem)
        .map_err(|e| anyhow::anyhow!("{} is not a PEM certificate: {e}", cert_path.display()))?;
    Ok(fingerprint(&der))
}

/// SHA-256 of a certificate, as browsers show it: hex pairs with colons.
pub fn fingerprint(der: &[u8]) -> String {
    Sha256::digest(der)
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect::<Vec<_>>()
        .join(":")
}

/// Whether the server certificate is missing or expires within the renewal margin.
fn due(dir: &Path, cfg: &TlsConfig, now: Timestamp) -> anyhow::Result<bool> {
    let path = dir.join(SERVER_CERT);
    if !path.exists() || !dir.join(SERVER_KEY).exists() {
        return Ok(true);
    }
    let not_after = not_after(&std::fs::read_to_string(&path)?)?;
    let margin = jiff::SignedDuration::from_hours(24 * i64::from(cfg.renew_before_days));
    Ok(not_after.duration_since(now) <= margin)
}

/// A server certificate for the configured names, this host's name,
/// localhost and loopback, signed by the hall CA.
fn issue_server_cert(dir: &Path, cfg: &TlsConfig, now: Timestamp) -> anyhow::Result<()> {
    let ca_pem = std::fs::read_to_string(dir.join(CA_CERT))?;
    let ca_key = KeyPair::from_pem(&std::fs::read_to_string(dir.join(CA_KEY))?)?;
    let issuer = Issuer::from_ca_cert_pem(&ca_pem, ca_key)?;
    let mut names: Vec<String> = cfg.names.clone();
    names.extend(["localhost".into(), "127.0.0.1".into(), "::1".into()]);
    if let Some(host) = hostname() {
        names.push(host.clone());
        names.push(format!("{host}.local"));
    }
    names.sort();
    names.dedup();
    let mut params = CertificateParams::default();
    params.distinguished_name.push(
        DnType::CommonName,
        cfg.names.first().map_or("hall queue server", |n| n),
    );
    params.subject_alt_names = names
        .iter()
        .map(|n| match n.parse::<IpAddr>() {
            Ok(ip) => Ok(SanType::IpAddress(ip)),
            Err(_) => Ok(SanType::DnsName(n.clone().try_into()?)),
        })
        .collect::<Result<_, rcgen::Error>>()?;
    params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    params.not_before = offset(now, -1)?;
    params.not_after = offset(now, i64::from(cfg.cert_days))?;
    let key = KeyPair::generate()?;
    let cert = params.signed_by(&key, &issuer)?;
    // The key first: a certificate without its key is never left behind.
    write_private(&dir.join(SERVER_KEY), key.serialize_pem().as_bytes())?;
    let tmp = dir.join("server.crt.new");
    std::fs::write(&tmp, format!("{}{}", cert.pem(), ca_pem))?;
    std::fs::rename(&tmp, dir.join(SERVER_CERT))?;
    tracing::info!(names = ?names, days = cfg.cert_days, "issued the hall's server certificate");
    Ok(())
}

fn own_certificate(cert: &Path, key: &Path) -> anyhow::Result<(CertifiedKey, TlsStatus)> {
    let (key, not_after) = load(cert, key)?;
    Ok((
        key,
        TlsStatus {
            ca_fingerprint: None,
            not_after,
            own_certificate: true,
            renewed_at: None,
        },
    ))
}

/// A certificate chain and its key, ready to serve, and when it expires.
fn load(cert: &Path, key: &Path) -> anyhow::Result<(CertifiedKey, Timestamp)> {
    let pem = std::fs::read_to_string(cert)
        .map_err(|e| anyhow::anyhow!("cannot read the certificate {}: {e}", cert.display()))?;
    let chain = CertificateDer::pem_slice_iter(pem.as_bytes())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| anyhow::anyhow!("{} is not a PEM certificate chain: {e}", cert.display()))?;
    if chain.is_empty() {
        anyhow::bail!("{} holds no certificate", cert.display());
    }
    let key_der = PrivateKeyDer::from_pem_file(key)
        .map_err(|e| anyhow::anyhow!("cannot read the private key {}: {e}", key.display()))?;
    let signing = rustls::crypto::aws_lc_rs::sign::any_supported_type(&key_der)
        .map_err(|e| anyhow::anyhow!("the key {} cannot sign: {e}", key.display()))?;
    Ok((CertifiedKey::new(chain, signing), not_after(&pem)?))
}

/// The expiry of the first certificate in a PEM file.
fn not_after(pem: &str) -> anyhow::Result<Timestamp> {
    let der = CertificateDer::from_pem_slice(pem.as_bytes())
        .map_err(|e| anyhow::anyhow!("not a PEM certificate: {e}"))?;
    let (_, cert) = x509_parser::parse_x509_certificate(&der)
        .map_err(|e| anyhow::anyhow!("not an X.509 certificate: {e}"))?;
    Ok(Timestamp::from_second(
        cert.validity().not_after.timestamp(),
    )?)
}

fn offset(now: Timestamp, days: i64) -> anyhow::Result<time::OffsetDateTime> {
    Ok(time::OffsetDateTime::from_unix_timestamp(
        now.as_second() + days * 86_400,
    )?)
}

/// Writes a private key readable by its owner only (the service user).
fn write_private(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    use std::os::unix::fs::OpenOptionsExt;
    let tmp = path.with_extension("new");
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&tmp)?;
    f.write_all(bytes)?;
    f.sync_all()?;
    std::fs::rename(&tmp, path)?;
    Ok(())
}

/// This host's name, from uname(2): the unit's ProcSubset=pid hides
/// /proc/sys, where reading it would silently give none.
fn hostname() -> Option<String> {
    // SAFETY: uname fills the struct it is given, and nodename is a
    // NUL-terminated string inside it.
    let name = unsafe {
        let mut u: libc::utsname = std::mem::zeroed();
        if libc::uname(&mut u) != 0 {
            return None;
        }
        std::ffi::CStr::from_ptr(u.nodename.as_ptr())
            .to_string_lossy()
            .into_owned()
    };
    let name = name.trim();
    (!name.is_empty() && name != "localhost").then(|| name.to_string())
}

/// The only thing plain HTTP on the LAN answers: a permanent redirect to
/// the same path over HTTPS on `https_port`, nothing read, nothing served.
pub fn redirect_router(https_port: u16) -> axum::Router {
    use axum::http::{HeaderMap, StatusCode, Uri, header};
    use axum::response::IntoResponse;
    axum::Router::new().fallback(move |headers: HeaderMap, uri: Uri| async move {
        // "hall.local:80" and "[::1]:80" lose their port; "hall.local" stays.
        let host = headers
            .get(header::HOST)
            .and_then(|h| h.to_str().ok())
            .map(|h| match h.rsplit_once(':') {
                Some((name, port)) if port.chars().all(|c| c.is_ascii_digit()) => name,
                _ => h,
            })
            .filter(|h| !h.is_empty() && !h.contains(['/', '@', ' ', '?', '#']));
        let Some(host) = host else {
            return (StatusCode::BAD_REQUEST, "a Host header is needed").into_response();
        };
        let path = uri.path_and_query().map_or("/", |p| p.as_str());
        match format!("https://{host}:{https_port}{path}").parse::<axum::http::HeaderValue>() {
            Ok(to) => (
                StatusCode::PERMANENT_REDIRECT,
                [(header::LOCATION, to)],
                "this hall speaks HTTPS",
            )
                .into_response(),
            Err(_) => (StatusCode::BAD_REQUEST, "an unusable Host header").into_response(),
        }
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_host_name_is_the_one_uname_reports() {
        let out = std::process::Command::new("uname")
            .arg("-n")
            .output()
            .unwrap();
        let uname = String::from_utf8(out.stdout).unwrap();
        let uname = uname.trim();
        let expected = (!uname.is_empty() && uname != "localhost").then(|| uname.to_string());
        assert_eq!(super::hostname(), expected);
    }
}
