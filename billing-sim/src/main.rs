//! billing-sim: a small, real billing system for the demo and the tests.
//!
//! `billing-sim serve` receives the hall's webhooks and checks their
//! signatures (a tampered body is refused with 401), remembers what arrived
//! (`GET /received`), and answers account lookups from a data file.
//! `billing-sim act` drives a counter through the queue server's API, as a
//! billing system's own "next customer" button does.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use axum::Json;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{get, post};
use clap::{Parser, Subcommand};
use hall_api::client::{ActionOutcome, HallClient};
use hall_api::signature::{EVENT_ID_HEADER, SIGNATURE_HEADER, verify};
use hall_api::{AccountInfo, CounterAction, CounterActionBody, Event};
use serde::{Deserialize, Serialize};

const DEMO_ACCOUNTS: &str = include_str!("../accounts.toml");

#[derive(Parser)]
#[command(version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the simulated billing system.
    Serve {
        #[arg(long, default_value = "127.0.0.1:9090")]
        listen: SocketAddr,
        /// The webhook secret shared with the hall's configuration.
        #[arg(long, env = "BILLING_WEBHOOK_SECRET")]
        secret: String,
        /// Accounts (TOML, see accounts.toml) [default: the built-in demo accounts].
        #[arg(long)]
        accounts: Option<PathBuf>,
        /// Serve https with this certificate chain (PEM); needs --tls-key.
        #[arg(long, requires = "tls_key")]
        tls_cert: Option<PathBuf>,
        /// The private key (PEM) of --tls-cert.
        #[arg(long, requires = "tls_cert")]
        tls_key: Option<PathBuf>,
    },
    /// Act on a counter through the queue server, as the billing system's button does.
    Act {
        #[arg(long, default_value = "http://127.0.0.1:8080")]
        server: String,
        #[arg(long, env = "BILLING_TOKEN", default_value = "demo-billing")]
        token: String,
        #[arg(long)]
        counter: u32,
        /// call-next, recall, start, complete, no-show, transfer, hold, resume-held, pause,
        /// resume, open, close
        action: String,
        #[arg(long)]
        transaction_ref: Option<String>,
        /// For transfer: the target service.
        #[arg(long)]
        service: Option<String>,
        /// For pause: one of the hall's pause reasons.
        #[arg(long)]
        reason: Option<String>,
        /// For resume-held: the held ticket's number.
        #[arg(long)]
        number: Option<String>,
    },
}

#[derive(Deserialize)]
struct AccountsFile {
    account: Vec<AccountInfo>,
}

/// One event as the simulator saw it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Received {
    pub event_id: i64,
    pub kind: String,
    pub ticket: Option<String>,
    /// How many times it was delivered (more than one after a lost answer).
    pub deliveries: u32,
    /// When it first arrived, in ms since the Unix epoch.
    pub first_received_unix_ms: i64,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ReceivedLog {
    /// In arrival order of first delivery.
    pub events: Vec<Received>,
    /// Deliveries refused for a bad or missing signature.
    pub rejected: u32,
}

#[derive(Clone)]
struct Sim {
    secret: Arc<Vec<u8>>,
    accounts: Arc<HashMap<String, AccountInfo>>,
    log: Arc<Mutex<ReceivedLog>>,
}

async fn webhook(
    State(sim): State<Sim>,
    headers: HeaderMap,
    body: Bytes,
) -> (StatusCode, &'static str) {
    let signature = headers
        .get(SIGNATURE_HEADER)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let mut log = sim.log.lock().unwrap_or_else(|p| p.into_inner());
    if !verify(&sim.secret, &body, signature) {
        log.rejected += 1;
        tracing::warn!("refused a webhook with a bad signature");
        return (StatusCode::UNAUTHORIZED, "bad signature");
    }
    let Ok(event) = serde_json::from_slice::<Event>(&body) else {
        return (StatusCode::BAD_REQUEST, "not an event");
    };
    let header_id = headers.get(EVENT_ID_HEADER).and_then(|v| v.to_str().ok());
    if header_id != Some(event.id.to_string().as_str()) {
        return (
            StatusCode::BAD_REQUEST,
            "event id header does not match the body",
        );
    }
    match log.events.iter_mut().find(|r| r.event_id == event.id) {
        Some(seen) => seen.deliveries += 1,
        None => {
            tracing::info!(id = event.id, kind = event.kind.as_str(), ticket = ?event.ticket.as_ref().map(|t| &t.number), counter = ?event.counter, "event received");
            log.events.push(Received {
                event_id: event.id,
                kind: event.kind.as_str().to_string(),
                ticket: event.ticket.map(|t| t.number),
                deliveries: 1,
                first_received_unix_ms: std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map_or(0, |d| d.as_millis() as i64),
            });
        }
    }
    (StatusCode::OK, "ok")
}

async fn received(State(sim): State<Sim>) -> Json<ReceivedLog> {
    Json(sim.log.lock().unwrap_or_else(|p| p.into_inner()).clone())
}

async fn account(
    State(sim): State<Sim>,
    Path(account_ref): Path<String>,
) -> Result<Json<AccountInfo>, StatusCode> {
    sim.accounts
        .get(&account_ref)
        .cloned()
        .map(Json)
        .ok_or(StatusCode::NOT_FOUND)
}

/// An https listener for axum: TCP, then a TLS handshake per connection
/// (a failed handshake is logged and the next connection taken).
struct TlsListener {
    tcp: tokio::net::TcpListener,
    tls: tokio_rustls::TlsAcceptor,
}

impl axum::serve::Listener for TlsListener {
    type Io = tokio_rustls::server::TlsStream<tokio::net::TcpStream>;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        loop {
            let Ok((tcp, peer)) = self.tcp.accept().await else {
                continue;
            };
            match self.tls.accept(tcp).await {
                Ok(stream) => return (stream, peer),
                Err(e) => tracing::warn!(%peer, error = %e, "TLS handshake failed"),
            }
        }
    }

    fn local_addr(&self) -> std::io::Result<Self::Addr> {
        self.tcp.local_addr()
    }
}

fn tls_acceptor(
    cert: &std::path::Path,
    key: &std::path::Path,
) -> anyhow::Result<tokio_rustls::TlsAcceptor> {
    use rustls_pki_types::pem::PemObject;
    use rustls_pki_types::{CertificateDer, PrivateKeyDer};
    let chain = CertificateDer::pem_file_iter(cert)
        .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", cert.display()))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| anyhow::anyhow!("{} is not PEM: {e}", cert.display()))?;
    let key = PrivateKeyDer::from_pem_file(key)
        .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", key.display()))?;
    let config = rustls::ServerConfig::builder_with_provider(
        rustls::crypto::aws_lc_rs::default_provider().into(),
    )
    .with_safe_default_protocol_versions()?
    .with_no_client_auth()
    .with_single_cert(chain, key)?;
    Ok(tokio_rustls::TlsAcceptor::from(std::sync::Arc::new(config)))
}

async fn serve(
    listen: SocketAddr,
    secret: String,
    accounts: Option<PathBuf>,
    tls: Option<(PathBuf, PathBuf)>,
) -> anyhow::Result<()> {
    let text = match &accounts {
        Some(p) => std::fs::read_to_string(p)
            .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", p.display()))?,
        None => DEMO_ACCOUNTS.to_string(),
    };
    let file: AccountsFile =
        toml::from_str(&text).map_err(|e| anyhow::anyhow!("accounts file: {e}"))?;
    let sim = Sim {
        secret: Arc::new(secret.into_bytes()),
        accounts: Arc::new(
            file.account
                .into_iter()
                .map(|a| (a.account_ref.clone(), a))
                .collect(),
        ),
        log: Arc::default(),
    };
    let app = Router::new()
        .route("/hall/events", post(webhook))
        .route("/received", get(received))
        .route("/accounts/{account_ref}", get(account))
        .with_state(sim);
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .map_err(|e| anyhow::anyhow!("cannot listen on {listen}: {e}"))?;
    tracing::info!(%listen, https = tls.is_some(), "billing simulator ready: webhooks at /hall/events, accounts at /accounts/{{ref}}");
    let stop = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    match tls {
        Some((cert, key)) => {
            let tls = tls_acceptor(&cert, &key)?;
            axum::serve(TlsListener { tcp: listener, tls }, app)
                .with_graceful_shutdown(stop)
                .await?;
        }
        None => {
            axum::serve(listener, app)
                .with_graceful_shutdown(stop)
                .await?
        }
    }
    Ok(())
}

async fn act(
    server: String,
    token: String,
    counter: u32,
    action: String,
    body: CounterActionBody,
) -> anyhow::Result<()> {
    let action = CounterAction::parse(&action).ok_or_else(|| {
        anyhow::anyhow!(
            "unknown action {action}; use one of {}",
            CounterAction::ALL.map(|a| a.as_str()).join(", ")
        )
    })?;
    let client = HallClient::new(server, token);
    let outcome = client.counter_action(counter, action, &body).await?;
    match outcome {
        ActionOutcome::Ticket(t) => println!(
            "counter {counter}: {} {} ({})",
            t.number,
            t.status.as_str(),
            t.service
        ),
        ActionOutcome::Counter(c) => println!("counter {counter}: {}", c.state.as_str()),
        ActionOutcome::NobodyWaiting => println!("counter {counter}: nobody waits"),
    }
    Ok(())
}

fn main() -> std::process::ExitCode {
    hall_api::logging::init();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a tokio runtime");
    let result = runtime.block_on(async {
        match Cli::parse().command {
            Command::Serve {
                listen,
                secret,
                accounts,
                tls_cert,
                tls_key,
            } => serve(listen, secret, accounts, tls_cert.zip(tls_key)).await,
            Command::Act {
                server,
                token,
                counter,
                action,
                transaction_ref,
                service,
                reason,
                number,
            } => {
                let body = CounterActionBody {
                    transaction_ref,
                    service,
                    reason,
                    number,
                };
                act(server, token, counter, action, body).await
            }
        }
    });
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("billing-sim: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
