//! TLS on the hall network against a real server: devices pin the hall CA
//! the server made; anything else is refused; plain HTTP stays on
//! loopback; the server certificate is renewed ahead of its expiry; a
//! browser with the CA installed (as staff install it) opens the pages.

use std::os::unix::fs::PermissionsExt;
use std::sync::Arc;

use rustls::client::danger::ServerCertVerifier;

use hall_api::client::HallClient;
use hall_api::{EventKind, IssueTicket};
use hall_testkit::browser::Browser;
use hall_testkit::{ServerOptions, ServerProcess, demo, free_port};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, ServerName, UnixTime};
use sha2::{Digest, Sha256};

const BIN: &str = env!("CARGO_BIN_EXE_queue-server");

fn hall_with_tls(port: u16, extra: &str) -> String {
    format!(
        "{}\n[tls]\nlisten = \"127.0.0.1:{port}\"\nnames = [\"hall.local\"]\n{extra}\n",
        include_str!("../demo.toml")
    )
}

async fn tls_server(extra: &str) -> (ServerProcess, u16) {
    let port = free_port();
    let s = ServerProcess::start(
        BIN,
        ServerOptions {
            config: Some(hall_with_tls(port, extra)),
            ..Default::default()
        },
    )
    .await;
    (s, port)
}

fn fingerprint(pem: &[u8]) -> String {
    let der = CertificateDer::from_pem_slice(pem).unwrap();
    Sha256::digest(&der)
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect::<Vec<_>>()
        .join(":")
}

/// A CA of somebody else's, as a device on the LAN might present.
fn another_ca() -> String {
    let key = rcgen::KeyPair::generate().unwrap();
    let mut params = rcgen::CertificateParams::default();
    params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    params.self_signed(&key).unwrap().pem()
}

#[tokio::test]
async fn devices_speak_https_trusting_the_hall_ca_and_nothing_else() {
    let (s, port) = tls_server("").await;
    let dir = s.dir.path().join("tls");
    for key in ["ca.key", "server.key"] {
        let mode = std::fs::metadata(dir.join(key))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "{key} is readable by the service only");
    }
    let ca = std::fs::read(dir.join("ca.crt")).unwrap();
    let printed = fingerprint(&ca);
    assert!(
        s.log().contains(&printed),
        "the start-up log names the CA's fingerprint"
    );
    let status: serde_json::Value = serde_json::from_str(
        &s.client(demo::MANAGER)
            .get_text("/api/v1/tls")
            .await
            .unwrap(),
    )
    .unwrap();
    assert_eq!(status["ca_fingerprint"], printed.as_str());

    // The kiosk and the board, over https with the pinned CA.
    let https = format!("https://127.0.0.1:{port}");
    let kiosk = HallClient::pinned(&https, demo::KIOSK, &ca).unwrap();
    let (t, _) = kiosk
        .issue_ticket(&IssueTicket::new("pay", "over-tls"))
        .await
        .unwrap();
    let board = HallClient::pinned(&https, demo::DISPLAY, &ca).unwrap();
    let mut events = board.events(Some(0)).await.unwrap();
    let first = events.next().await.unwrap().unwrap();
    assert_eq!(
        (first.kind, first.ticket.unwrap().number),
        (EventKind::TicketIssued, t.number)
    );
    // By the name in the certificate, as devices configured with it reach it.
    let by_name = reqwest::Client::builder()
        .tls_backend_preconfigured(hall_api::client::pinned_tls(&ca).unwrap())
        .resolve("hall.local", ([127, 0, 0, 1], port).into())
        .build()
        .unwrap();
    let health = by_name
        .get(format!("https://hall.local:{port}/healthz"))
        .send()
        .await
        .unwrap();
    assert_eq!(health.status(), 200);

    // A client trusting another CA does not talk to it; nor plain HTTP.
    let stranger = HallClient::pinned(&https, demo::KIOSK, another_ca().as_bytes()).unwrap();
    let refused = stranger.health().await.unwrap_err().to_string();
    assert!(refused.contains("cannot reach"), "{refused}");
    let plain = reqwest::get(format!("http://127.0.0.1:{port}/healthz")).await;
    assert!(plain.is_err() || !plain.unwrap().status().is_success());
    // A device told https without the CA is refused before it starts.
    let e = HallClient::for_device(&https, demo::KIOSK, None).unwrap_err();
    assert!(e.to_string().contains("server.ca"), "{e}");

    // Plain HTTP on the network while TLS is on: the server will not start.
    let (ok, _, err) = hall_testkit::run_to_end(
        BIN.as_ref(),
        &[
            "--config",
            s.dir.path().join("hall.toml").to_str().unwrap(),
            "--db",
            s.dir.path().join("other.db").to_str().unwrap(),
            "--listen",
            &format!("0.0.0.0:{}", free_port()),
        ],
    );
    assert!(!ok && err.contains("plain HTTP would listen"), "{err}");
}

/// Verifies a server certificate chain against the hall CA at `at`.
fn verify_at(ca: &[u8], chain_pem: &[u8], at: jiff::Timestamp) -> Result<(), rustls::Error> {
    let mut roots = rustls::RootCertStore::empty();
    roots
        .add(CertificateDer::from_pem_slice(ca).unwrap())
        .unwrap();
    let verifier = rustls::client::WebPkiServerVerifier::builder_with_provider(
        Arc::new(roots),
        Arc::new(rustls::crypto::aws_lc_rs::default_provider()),
    )
    .build()
    .unwrap();
    let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(chain_pem)
        .collect::<Result<_, _>>()
        .unwrap();
    verifier
        .verify_server_cert(
            &chain[0],
            &chain[1..],
            &ServerName::try_from("hall.local").unwrap(),
            &[],
            UnixTime::since_unix_epoch(std::time::Duration::from_secs(at.as_second() as u64)),
        )
        .map(|_| ())
}

#[tokio::test]
async fn the_server_certificate_is_renewed_ahead_of_its_expiry() {
    let (mut s, _) = tls_server("cert_days = 30\nrenew_before_days = 10").await;
    let dir = s.dir.path().join("tls");
    let ca = std::fs::read(dir.join("ca.crt")).unwrap();
    let first = std::fs::read(dir.join("server.crt")).unwrap();
    let now = jiff::Timestamp::now();
    verify_at(&ca, &first, now).expect("the first certificate is valid now");
    let status = |s: &ServerProcess| {
        let m = s.client(demo::MANAGER);
        async move {
            serde_json::from_str::<serde_json::Value>(&m.get_text("/api/v1/tls").await.unwrap())
                .unwrap()
        }
    };
    assert!(status(&s).await["renewed_at"].is_null());

    // 25 days on, the certificate has five left: inside the ten-day margin.
    s.restart_with_faketime("+25d").await;
    let second = std::fs::read(dir.join("server.crt")).unwrap();
    assert_ne!(first, second, "a new certificate");
    assert_eq!(
        std::fs::read(dir.join("ca.crt")).unwrap(),
        ca,
        "the same CA: devices keep working"
    );
    let later = now + jiff::SignedDuration::from_hours(25 * 24);
    verify_at(&ca, &second, later).expect("the new certificate is valid then");
    verify_at(
        &ca,
        &second,
        later + jiff::SignedDuration::from_hours(29 * 24),
    )
    .expect("and for its whole 30 days");
    assert!(
        verify_at(
            &ca,
            &first,
            later + jiff::SignedDuration::from_hours(6 * 24)
        )
        .is_err(),
        "the old one would have expired"
    );
    let st = status(&s).await;
    assert!(!st["renewed_at"].is_null(), "the manager is told: {st}");
    assert!(s.log().contains("renewed the hall's server certificate"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn staff_browsers_with_the_hall_ca_installed_open_the_counter_page_over_https() {
    let (s, port) = tls_server("").await;
    s.client(demo::MANAGER).set_pin(1, "2468").await.unwrap();
    let ca = s.dir.path().join("tls/ca.crt");
    // Without the CA, the browser refuses the page.
    let stranger = Browser::start(1024, 600, "en-US").await;
    stranger
        .goto_raw(&format!("https://127.0.0.1:{port}/counter"))
        .await;
    assert!(
        stranger.find_all("#signin-button").await.is_empty(),
        "a browser without the hall CA must not show the page"
    );
    stranger.close().await;

    let b = Browser::start_trusting(1024, 600, "en-US", &ca).await;
    b.goto(&format!("https://127.0.0.1:{port}/counter")).await;
    b.type_into("#signin-counter", "1").await;
    b.type_into("#signin-secret", "2468").await;
    b.click("#signin-button").await;
    b.wait_text("#counter-state", "open", |t| t == "Open").await;
    // Live over the event stream, through TLS too.
    s.client(demo::KIOSK)
        .issue_ticket(&IssueTicket::new("pay", "browser-tls"))
        .await
        .unwrap();
    b.wait_for("#queue-list li[data-number='A001']").await;
    b.screenshot("counter-1024x600-en-https").await;
    b.close().await;
}

/// A CA of the billing system's own and a certificate for 127.0.0.1, as PEM files.
fn billing_pki(
    dir: &std::path::Path,
) -> (std::path::PathBuf, std::path::PathBuf, std::path::PathBuf) {
    let ca_key = rcgen::KeyPair::generate().unwrap();
    let mut ca = rcgen::CertificateParams::default();
    ca.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    ca.distinguished_name
        .push(rcgen::DnType::CommonName, "Billing test CA");
    let ca_cert = ca.self_signed(&ca_key).unwrap();
    let issuer = rcgen::Issuer::new(ca, ca_key);
    let key = rcgen::KeyPair::generate().unwrap();
    let params = rcgen::CertificateParams::new(vec!["127.0.0.1".to_string()]).unwrap();
    let cert = params.signed_by(&key, &issuer).unwrap();
    let paths = (
        dir.join("billing-ca.pem"),
        dir.join("billing.pem"),
        dir.join("billing.key"),
    );
    std::fs::write(&paths.0, ca_cert.pem()).unwrap();
    std::fs::write(&paths.1, cert.pem()).unwrap();
    std::fs::write(&paths.2, key.serialize_pem()).unwrap();
    paths
}

#[tokio::test]
async fn webhooks_and_account_lookups_reach_an_https_billing_system_and_bad_certificates_are_reported()
 {
    use hall_testkit::billing::{BillingSim, SECRET};
    let pki = tempfile::tempdir().unwrap();
    let (ca, cert, key) = billing_pki(pki.path());
    let port = free_port();
    let ca_pem = std::fs::read(&ca).unwrap();
    let sim = BillingSim::start_tls(
        &hall_testkit::workspace_bin("billing-sim"),
        port,
        &cert,
        &key,
        &ca_pem,
    )
    .await;
    let hall = |with_ca: bool| {
        let ca_line = if with_ca {
            format!("ca = \"{}\"\n", ca.display())
        } else {
            String::new()
        };
        format!(
            "{}\n[[webhook]]\nname = \"billing\"\nurl = \"https://127.0.0.1:{port}/hall/events\"\nsecret = \"{SECRET}\"\n\
             events = [\"ticket.called\"]\nretry_max_s = 1\n\n\
             [billing]\naccount_url = \"https://127.0.0.1:{port}/accounts/{{ref}}\"\ntimeout_ms = 2000\n{ca_line}",
            include_str!("../demo.toml")
        )
    };

    // With the billing CA configured: delivered, and the lookup answers.
    let s = ServerProcess::start(
        BIN,
        ServerOptions {
            config: Some(hall(true)),
            ..Default::default()
        },
    )
    .await;
    s.client(demo::KIOSK)
        .issue_ticket(&IssueTicket::new("pay", "w1"))
        .await
        .unwrap();
    s.client(demo::MANAGER).call_next(1).await.unwrap();
    let got = sim.wait_for(1).await;
    assert_eq!(got["events"][0]["kind"], "ticket.called");
    let account = s.client(demo::KIOSK).account("8800123456").await.unwrap();
    assert_eq!(account.amount_due_minor, 12850);
    drop(s);

    // Without it, the certificate is not trusted: retried, reported, kept.
    let s = ServerProcess::start(
        BIN,
        ServerOptions {
            config: Some(hall(false)),
            ..Default::default()
        },
    )
    .await;
    s.client(demo::KIOSK)
        .issue_ticket(&IssueTicket::new("pay", "w2"))
        .await
        .unwrap();
    s.client(demo::MANAGER).call_next(1).await.unwrap();
    let m = s.client(demo::MANAGER);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
    let status = loop {
        let w = m.webhooks().await.unwrap().remove(0);
        if w.attempts >= 2 {
            break w;
        }
        assert!(std::time::Instant::now() < deadline, "not retried: {w:?}");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    };
    assert_eq!((status.pending, status.delivered), (1, 0), "{status:?}");
    let why = status.last_error.unwrap_or_default().to_lowercase();
    assert!(
        why.contains("certificate") || why.contains("unknownissuer"),
        "{why}"
    );
    assert_eq!(
        s.client(demo::KIOSK)
            .account("8800123456")
            .await
            .unwrap_err()
            .status(),
        Some(503),
        "the kiosk goes on without the lookup"
    );
    drop(sim);
}

#[tokio::test]
async fn a_hall_may_bring_its_own_certificate() {
    let pki = tempfile::tempdir().unwrap();
    let (ca, cert, key) = billing_pki(pki.path());
    let extra = format!("cert = \"{}\"\nkey = \"{}\"", cert.display(), key.display());
    let (s, port) = tls_server(&extra).await;
    let client = HallClient::pinned(
        format!("https://127.0.0.1:{port}"),
        demo::KIOSK,
        &std::fs::read(&ca).unwrap(),
    )
    .unwrap();
    client.health().await.unwrap();
    let status: serde_json::Value = serde_json::from_str(
        &s.client(demo::MANAGER)
            .get_text("/api/v1/tls")
            .await
            .unwrap(),
    )
    .unwrap();
    assert_eq!(status["own_certificate"], true);
    assert!(status["ca_fingerprint"].is_null());
    assert!(
        !s.dir.path().join("tls/ca.key").exists(),
        "no CA of its own is made"
    );
}

#[tokio::test]
async fn plain_http_on_the_network_may_only_redirect_to_https() {
    let from = free_port();
    let (_s, port) = tls_server(&format!("redirect_from = \"127.0.0.1:{from}\"")).await;
    let plain = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    for (path, token) in [
        ("/counter?lang=zh", None),
        ("/api/v1/hall", Some(demo::MANAGER)),
    ] {
        let mut req = plain
            .get(format!("http://127.0.0.1:{from}{path}"))
            .header("host", format!("hall.local:{from}"));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        let resp = req.send().await.unwrap();
        assert_eq!(resp.status(), 308, "{path}");
        assert_eq!(
            resp.headers()["location"],
            format!("https://hall.local:{port}{path}").as_str()
        );
        assert_eq!(
            resp.text().await.unwrap(),
            "this hall speaks HTTPS",
            "nothing served"
        );
    }
}
