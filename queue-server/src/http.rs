//! Serving the router over HTTP/1 with hyper directly, because the hall's
//! long-lived event streams need two settings axum's `serve` does not offer:
//! a small per-connection write buffer (a display that reads slowly must
//! fall back to catching up from the event log, not make the server buffer
//! hundreds of kilobytes for it) and TCP_NODELAY for prompt small writes.

use std::future::Future;
use std::time::Duration;

use axum::Router;
use axum::extract::Request;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;
use tower_service::Service;

/// hyper's smallest allowed write buffer; its default is about 400 KiB.
const WRITE_BUFFER: usize = 8 * 1024;
/// How long open connections get to finish after shutdown begins.
const DRAIN: Duration = Duration::from_secs(10);

pub async fn serve(listener: TcpListener, app: Router, shutdown: impl Future<Output = ()>) {
    let graceful = GracefulShutdown::new();
    tokio::pin!(shutdown);
    loop {
        let socket = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((socket, _)) => socket,
                Err(e) => {
                    // Out of file descriptors and the like: wait, do not spin or die.
                    tracing::warn!(error = %e, "accepting a connection failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let _ = socket.set_nodelay(true);
        let app = app.clone();
        let service =
            hyper::service::service_fn(move |req: Request<Incoming>| app.clone().call(req));
        let conn = hyper::server::conn::http1::Builder::new()
            .max_buf_size(WRITE_BUFFER)
            .timer(TokioTimer::new())
            .header_read_timeout(Duration::from_secs(30))
            .serve_connection(TokioIo::new(socket), service);
        let conn = graceful.watch(conn);
        tokio::spawn(async move {
            if let Err(e) = conn.await {
                tracing::debug!(error = %e, "connection ended with an error");
            }
        });
    }
    drop(listener);
    if tokio::time::timeout(DRAIN, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!("connections still open {DRAIN:?} after shutdown began; closing them");
    }
}
