//! head-office: every hall's events from NATS JetStream into PostgreSQL,
//! and the company's view of its halls.
//!
//! - [`config`]: the TOML configuration;
//! - [`client_addr`]: the client's address, behind the company's reverse proxies;
//! - [`db`]: the PostgreSQL schema and pool;
//! - [`ingest`]: the durable consumer, idempotent on (hall, event id),
//!   and the rollups it keeps;
//! - [`status`]: the halls' heartbeats, with their devices;
//! - [`keys`]: the NATS user keys of halls (with their permissions) and head office;
//! - [`pushes`]: changes pushed to halls, and their answers;
//! - [`queries`]: every hall now, rankings, one hall's day;
//! - [`relay`]: the halls' phone pages, relayed to each hall over NATS;
//! - [`users`]: who may sign in, their sessions, the audit log;
//! - [`signin`]: the sign-in, and the session every API route needs;
//! - [`web`]: the page and the API.

pub mod client_addr;
pub mod config;
pub mod db;
pub mod error;
pub mod ingest;
pub mod keys;
pub mod pushes;
pub mod queries;
pub mod relay;
pub mod signin;
pub mod status;
pub mod users;
pub mod web;

use std::future::Future;

/// PostgreSQL connections for the page and the API, beside the consumer's.
const POOL_SIZE: usize = 8;

/// Runs head office until `shutdown` completes.
pub async fn serve(
    cfg: config::Config,
    listener: tokio::net::TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let pool = db::open(&cfg.postgres, POOL_SIZE).await?;
    let client = ingest::connect(&cfg.nats).await?;
    let js = async_nats::jetstream::new(client.clone());
    let (changed, _) = tokio::sync::broadcast::channel(256);
    let consumer = tokio::spawn(ingest::run(js, pool.clone(), changed.clone()));
    let heartbeats = tokio::spawn(status::run(client.clone(), pool.clone(), changed.clone()));
    tracing::info!(listen = %listener.local_addr()?, nats = %cfg.nats.url, "head office ready");
    let state = web::AppState::new(pool.clone(), changed, client.clone(), cfg.trusted_proxies);
    let pusher = tokio::spawn(pushes::run(client, pool, state.push_wake.clone()));
    let app = web::router(state);
    // systemd (Type=notify) counts head office started once PostgreSQL
    // and NATS answered and it listens.
    let _ = sd_notify::notify(&[sd_notify::NotifyState::Ready]);
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<std::net::SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await?;
    let _ = sd_notify::notify(&[sd_notify::NotifyState::Stopping]);
    consumer.abort();
    heartbeats.abort();
    pusher.abort();
    Ok(())
}
