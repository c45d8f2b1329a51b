//! The link to head office through the hall network's HTTP proxy. Many
//! companies let a branch's network out only through one, and the NATS
//! client dials TCP itself: so the hall listens on a loopback port, and
//! each connection the client makes there is carried to head office
//! through the proxy (`CONNECT host:port`, RFC 9110 §9.3.6). TLS stays end
//! to end: the client checks head office's certificate for head office's
//! name ([`tls_for`]), not for the loopback address it dialled, and takes no
//! other servers' addresses from head office (they would bypass the proxy).

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

use crate::config::Proxy;
use crate::head_office::Shipping;

/// How long the proxy may take to open the way.
const PROXY_TIMEOUT: Duration = Duration::from_secs(10);
/// The longest proxy answer head taken (a real one is a few lines).
const HEAD_MAX: usize = 8 * 1024;

/// Listens on a loopback port for the NATS client; each connection there
/// goes through `proxy` to `target` (`host:port`), and `shipping` hears
/// why the proxy refused. Returns the port's address; the listener stops
/// at shutdown.
pub async fn open(
    proxy: Proxy,
    target: String,
    shipping: Arc<Shipping>,
    mut shutdown: watch::Receiver<bool>,
) -> Result<SocketAddr, String> {
    let listener = TcpListener::bind(("127.0.0.1", 0))
        .await
        .map_err(|e| format!("cannot listen on loopback for the proxy tunnel: {e}"))?;
    let local = listener.local_addr().map_err(|e| e.to_string())?;
    tokio::spawn(async move {
        loop {
            let accepted = tokio::select! {
                a = listener.accept() => a,
                () = async { let _ = shutdown.wait_for(|&stop| stop).await; } => return,
            };
            let inbound = match accepted {
                Ok((s, _)) => s,
                Err(e) => {
                    tracing::warn!(error = %e, "the proxy tunnel cannot accept");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                    continue;
                }
            };
            let (proxy, target, shipping) = (proxy.clone(), target.clone(), shipping.clone());
            tokio::spawn(async move {
                if let Err(e) = carry(inbound, &proxy, &target, &shipping).await {
                    tracing::warn!(proxy = %proxy.addr, error = %e, "the link to head office through the proxy failed; retrying");
                    shipping.set_proxy_error(Some(e));
                }
            });
        }
    });
    Ok(local)
}

/// One connection: the way opened through the proxy, then bytes both ways.
async fn carry(
    mut inbound: TcpStream,
    proxy: &Proxy,
    target: &str,
    shipping: &Shipping,
) -> Result<(), String> {
    let addr = &proxy.addr;
    let outbound = tokio::time::timeout(PROXY_TIMEOUT, TcpStream::connect(addr))
        .await
        .map_err(|_| format!("the proxy {addr} did not answer in time"))?
        .map_err(|e| format!("cannot reach the proxy {addr}: {e}"))?;
    let mut outbound = BufReader::new(outbound);
    let credentials = proxy
        .authorization
        .as_ref()
        .map(|a| format!("Proxy-Authorization: {a}\r\n"))
        .unwrap_or_default();
    let ask = format!("CONNECT {target} HTTP/1.1\r\nHost: {target}\r\n{credentials}\r\n");
    outbound
        .get_mut()
        .write_all(ask.as_bytes())
        .await
        .map_err(|e| e.to_string())?;
    let answer = tokio::time::timeout(PROXY_TIMEOUT, read_head(&mut outbound))
        .await
        .map_err(|_| format!("the proxy {addr} did not open the way in time"))??;
    let status = answer.lines().next().unwrap_or_default();
    let code = status.split_whitespace().nth(1).unwrap_or_default();
    // 407 as RFC 9110 says; tinyproxy answers a CONNECT with 401.
    if code == "407" || code == "401" {
        return Err(match proxy.authorization {
            None => format!(
                "the proxy {addr} asks for a password (\"{status}\"); give head_office.proxy_credentials_file"
            ),
            Some(_) => format!(
                "the proxy {addr} refused this hall's credentials (\"{status}\"); check head_office.proxy_credentials_file"
            ),
        });
    }
    if !status.starts_with("HTTP/1.") || code != "200" {
        return Err(format!(
            "the proxy refused the way to {target}: \"{status}\" (does it allow CONNECT to that port?)"
        ));
    }
    shipping.set_proxy_error(None);
    // Whatever head office said already came in with the proxy's answer.
    let early = outbound.buffer().to_vec();
    inbound.write_all(&early).await.map_err(|e| e.to_string())?;
    let mut outbound = outbound.into_inner();
    let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
    Ok(())
}

/// The proxy's answer up to its empty line; what follows stays buffered.
async fn read_head(from: &mut BufReader<TcpStream>) -> Result<String, String> {
    let mut head = String::new();
    loop {
        let before = head.len();
        let n = from
            .read_line(&mut head)
            .await
            .map_err(|e| format!("the proxy's answer: {e}"))?;
        if n == 0 {
            return Err("the proxy closed the connection without answering".into());
        }
        if head[before..].trim_end().is_empty() {
            return Ok(head);
        }
        if head.len() > HEAD_MAX {
            return Err("the proxy's answer is too long to be one".into());
        }
    }
}

/// TLS for a client that dials the tunnel's loopback port: head office's
/// certificate must be valid for `host`, signed by `ca` (a PEM file) or,
/// without one, by the system's CAs.
pub fn tls_for(host: &str, ca: Option<&Path>) -> Result<rustls::ClientConfig, String> {
    let roots = match ca {
        Some(path) => {
            let pem = std::fs::read(path)
                .map_err(|e| format!("cannot read head office's CA {}: {e}", path.display()))?;
            hall_api::client::pem_roots(&pem, &path.display().to_string())?
        }
        None => {
            let mut roots = rustls::RootCertStore::empty();
            for cert in rustls_native_certs::load_native_certs().certs {
                let _ = roots.add(cert);
            }
            roots
        }
    };
    if roots.is_empty() {
        return Err("no CA to check head office's certificate with: give [head_office] ca or install ca-certificates".into());
    }
    let name = ServerName::try_from(host.trim_start_matches('[').trim_end_matches(']'))
        .map_err(|e| format!("\"{host}\" is not a host name: {e}"))?
        .to_owned();
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let inner = rustls::client::WebPkiServerVerifier::builder_with_provider(
        Arc::new(roots),
        provider.clone(),
    )
    .build()
    .map_err(|e| e.to_string())?;
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(ForName { inner, name }))
        .with_no_client_auth();
    Ok(config)
}

/// The usual web PKI check, for head office's name instead of the name
/// dialled (the loopback address of the tunnel).
#[derive(Debug)]
struct ForName {
    inner: Arc<rustls::client::WebPkiServerVerifier>,
    name: ServerName<'static>,
}

impl ServerCertVerifier for ForName {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        _dialled: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        self.inner
            .verify_server_cert(end_entity, intermediates, &self.name, ocsp_response, now)
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.inner.supported_verify_schemes()
    }
}
