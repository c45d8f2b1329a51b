//! Serving the router over HTTP/1 with hyper directly, because the hall
//! needs what axum's `serve` does not offer:
//!
//! - a small per-connection write buffer (a display that reads slowly must
//!   fall back to catching up from the event log, not make the server
//!   buffer hundreds of kilobytes for it) and TCP_NODELAY;
//! - a ceiling on open connections below the file-descriptor limit: when it
//!   is reached, the connection idle the longest (no request in flight) is
//!   closed to make room, so a flood of idle sockets cannot keep the board,
//!   the kiosks and `/healthz` out, and accept never fails for lack of
//!   descriptors the database needs;
//! - the client's address in each request, for limits per address.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{ConnectInfo, Request};
use hyper::body::{Body, Frame, Incoming, SizeHint};
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpListener;
use tokio::sync::{Notify, watch};
use tower_service::Service;

/// hyper's smallest allowed write buffer; its default is about 400 KiB.
const WRITE_BUFFER: usize = 8 * 1024;
/// How long a client has to send a request's headers, and how long a
/// kept-alive connection may wait idle for its next request.
pub const HEADER_TIMEOUT: Duration = Duration::from_secs(10);
/// How long open connections get to finish after shutdown begins.
const DRAIN: Duration = Duration::from_secs(10);
/// File descriptors kept for the database (writer, readers, their WAL and
/// shared-memory files), the listener, logs and the runtime.
const RESERVED_FDS: u64 = 64;

/// How many connections may be open at once: the process's limit on open
/// files, less what the server needs besides.
pub fn connection_ceiling() -> usize {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit writes into the struct it is given.
    let soft = if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) } == 0 {
        limit.rlim_cur
    } else {
        1024
    };
    usize::try_from(soft.saturating_sub(RESERVED_FDS).clamp(16, 65_536)).unwrap_or(1024)
}

/// One open connection, as the ceiling sees it.
struct Conn {
    /// Requests whose response (an event stream included) is not finished.
    in_flight: AtomicUsize,
    /// Milliseconds since `Connections::epoch` of the last request's end.
    idle_since_ms: AtomicU64,
    close: Notify,
}

struct Connections {
    epoch: Instant,
    ceiling: usize,
    next_id: AtomicU64,
    open: Mutex<HashMap<u64, Arc<Conn>>>,
    /// Signalled whenever a connection ends (for the drain at shutdown).
    ended: Notify,
}

impl Connections {
    fn now_ms(&self) -> u64 {
        u64::try_from(self.epoch.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    /// Registers a new connection; at the ceiling, first closes the one idle
    /// the longest. `None` when every open connection is busy.
    fn admit(&self) -> Option<(u64, Arc<Conn>)> {
        let mut open = self.open.lock().unwrap_or_else(|p| p.into_inner());
        if open.len() >= self.ceiling {
            let idlest = open
                .iter()
                .filter(|(_, c)| c.in_flight.load(Ordering::Acquire) == 0)
                .min_by_key(|(_, c)| c.idle_since_ms.load(Ordering::Acquire))
                .map(|(id, _)| *id)?;
            if let Some(c) = open.remove(&idlest) {
                c.close.notify_one();
            }
        }
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let conn = Arc::new(Conn {
            in_flight: AtomicUsize::new(0),
            idle_since_ms: AtomicU64::new(self.now_ms()),
            close: Notify::new(),
        });
        open.insert(id, conn.clone());
        Some((id, conn))
    }

    fn forget(&self, id: u64) {
        self.open
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&id);
        self.ended.notify_waiters();
    }

    fn count(&self) -> usize {
        self.open.lock().unwrap_or_else(|p| p.into_inner()).len()
    }
}

/// Marks its connection busy while a response is being sent; dropped with
/// the response body, when the last byte is out (or the client left).
struct Busy {
    conn: Arc<Conn>,
    table: Arc<Connections>,
}

impl Busy {
    fn new(conn: Arc<Conn>, table: Arc<Connections>) -> Busy {
        conn.in_flight.fetch_add(1, Ordering::AcqRel);
        Busy { conn, table }
    }
}

impl Drop for Busy {
    fn drop(&mut self) {
        self.conn
            .idle_since_ms
            .store(self.table.now_ms(), Ordering::Release);
        self.conn.in_flight.fetch_sub(1, Ordering::AcqRel);
    }
}

/// A response body that keeps its connection marked busy until it ends.
struct Tracked<B> {
    inner: B,
    _busy: Busy,
}

impl<B: Body + Unpin> Body for Tracked<B> {
    type Data = B::Data;
    type Error = B::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        Pin::new(&mut self.inner).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

/// A listening socket and, for HTTPS, the TLS it speaks.
pub struct Listener {
    pub tcp: TcpListener,
    pub tls: Option<tokio_rustls::TlsAcceptor>,
}

/// Serves `app` on every listener until `shutdown`, then lets the
/// connections finish their responses (at most [`DRAIN`]). The listeners
/// share one connection ceiling.
pub async fn serve(listeners: Vec<Listener>, app: Router, shutdown: impl Future<Output = ()>) {
    let table = Arc::new(Connections {
        epoch: Instant::now(),
        ceiling: connection_ceiling(),
        next_id: AtomicU64::new(0),
        open: Mutex::new(HashMap::new()),
        ended: Notify::new(),
    });
    tracing::info!(ceiling = table.ceiling, "connections admitted at once");
    let (stop_tx, stop_rx) = watch::channel(false);
    let accepting: Vec<_> = listeners
        .into_iter()
        .map(|l| tokio::spawn(accept(l, app.clone(), table.clone(), stop_rx.clone())))
        .collect();
    shutdown.await;
    let _ = stop_tx.send(true);
    for a in accepting {
        let _ = a.await;
    }
    let drained = tokio::time::timeout(DRAIN, async {
        while table.count() > 0 {
            let ended = table.ended.notified();
            if table.count() == 0 {
                break;
            }
            ended.await;
        }
    })
    .await;
    if drained.is_err() {
        tracing::warn!("connections still open {DRAIN:?} after shutdown began; closing them");
    }
}

/// Takes the connections of one listener until the stop signal.
async fn accept(
    listener: Listener,
    app: Router,
    table: Arc<Connections>,
    stop_rx: watch::Receiver<bool>,
) {
    let mut stopping = stop_rx.clone();
    loop {
        let (socket, peer) = tokio::select! {
            accepted = listener.tcp.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    tracing::warn!(error = %e, "accepting a connection failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            () = async { let _ = stopping.wait_for(|&s| s).await; } => break,
        };
        let Some((id, conn)) = table.admit() else {
            tracing::warn!(%peer, "every connection is busy; refusing a new one");
            continue; // dropping the socket closes it
        };
        let _ = socket.set_nodelay(true);
        let app = app.clone();
        let (busy_conn, busy_table) = (conn.clone(), table.clone());
        let via_tls = listener.tls.is_some();
        let service = hyper::service::service_fn(move |mut req: Request<Incoming>| {
            req.extensions_mut().insert(ConnectInfo(peer));
            if via_tls {
                req.extensions_mut().insert(ViaTls);
            }
            let busy = Busy::new(busy_conn.clone(), busy_table.clone());
            let response = app.clone().call(req);
            async move {
                let response = response.await?;
                Ok::<_, std::convert::Infallible>(
                    response.map(|inner| Tracked { inner, _busy: busy }),
                )
            }
        });
        let stop = stop_rx.clone();
        let table = table.clone();
        let tls = listener.tls.clone();
        tokio::spawn(async move {
            match tls {
                None => run_connection(socket, service, &conn, stop).await,
                // The handshake has the headers' time limit: a client that
                // opens a socket and says nothing holds no slot for long.
                Some(tls) => match tokio::time::timeout(HEADER_TIMEOUT, tls.accept(socket)).await {
                    Ok(Ok(stream)) => run_connection(stream, service, &conn, stop).await,
                    Ok(Err(e)) => {
                        tracing::debug!(%peer, error = %e, "TLS handshake failed");
                    }
                    Err(_) => tracing::debug!(%peer, "TLS handshake timed out"),
                },
            }
            table.forget(id);
        });
    }
}

/// Marks a request that came over HTTPS (cookies are then `Secure`).
#[derive(Debug, Clone, Copy)]
pub struct ViaTls;

/// Serves one connection until it ends, the ceiling evicts it, or the
/// server stops (then its response under way is finished first).
async fn run_connection<I, S>(io: I, service: S, conn: &Conn, mut stop: watch::Receiver<bool>)
where
    I: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
    S: hyper::service::HttpService<Incoming> + Send,
    S::Future: Send + 'static,
    S::ResBody: Send + 'static,
    <S::ResBody as Body>::Data: Send,
    <S::ResBody as Body>::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let connection = hyper::server::conn::http1::Builder::new()
        .max_buf_size(WRITE_BUFFER)
        .timer(TokioTimer::new())
        .header_read_timeout(HEADER_TIMEOUT)
        .serve_connection(TokioIo::new(io), service);
    tokio::pin!(connection);
    let ended = tokio::select! {
        ended = connection.as_mut() => Some(ended),
        () = conn.close.notified() => None,
        () = async { let _ = stop.wait_for(|&s| s).await; } => None,
    };
    let ended = match ended {
        Some(ended) => ended,
        None => {
            // Finish the response under way, then close.
            connection.as_mut().graceful_shutdown();
            connection.await
        }
    };
    if let Err(e) = ended {
        tracing::debug!(error = %e, "connection ended with an error");
    }
}
