//! Phones' requests that head office relays to this hall: a customer on
//! mobile data cannot reach the hall's network, so head office serves the
//! phone's pages and passes each request here over the hall's own outbound
//! NATS connection (`office.<hall_id>.public`, request/reply). The request
//! runs through the same router as one from the hall's network, so every
//! rule and limit is the hall's own; only the paths
//! [`hall_api::head_office::is_relayed_path`] names are taken.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex};

use async_nats::HeaderMap;
use axum::body::Body;
use axum::extract::ConnectInfo;
use hall_api::head_office::{RELAY_BODY_MAX, is_relayed_path, relay_header, relay_subject};
use tokio::sync::{Semaphore, watch};
use tower_service::Service;

/// Requests answered at once; more wait for a turn (a phone's page asks
/// for a few files, a busy hall's phones a few dozen at a time).
const IN_FLIGHT: usize = 32;

/// The router relayed requests run through: set once the server has built
/// it, taken away at shutdown (it holds the writer's handle, which must go
/// for the writer to finish).
#[derive(Clone, Default)]
pub struct PublicRouter(Arc<Mutex<Option<axum::Router>>>);

impl std::fmt::Debug for PublicRouter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PublicRouter")
    }
}

impl PublicRouter {
    pub fn set(&self, router: Option<axum::Router>) {
        *self.0.lock().unwrap_or_else(|p| p.into_inner()) = router;
    }

    fn get(&self) -> Option<axum::Router> {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }
}

pub struct Relay {
    pub hall_id: String,
    pub router: PublicRouter,
    pub shutdown: watch::Receiver<bool>,
}

impl Relay {
    pub async fn run(self, client: async_nats::Client) {
        let mut requests = crate::head_office::Requests::take(
            &client,
            relay_subject(&self.hall_id),
            "phones' requests from head office",
            self.shutdown.clone(),
        )
        .await;
        let turns = Arc::new(Semaphore::new(IN_FLIGHT));
        while let Some((m, reply)) = requests.next().await {
            let Ok(turn) = turns.clone().acquire_owned().await else {
                return;
            };
            let (client, router) = (client.clone(), self.router.clone());
            tokio::spawn(async move {
                let (headers, body) = answer(router.get(), m.headers.as_ref(), m.payload).await;
                if let Err(e) = client.publish_with_headers(reply, headers, body).await {
                    tracing::debug!(error = %e, "a relayed answer was not sent");
                }
                drop(turn);
            });
        }
    }
}

/// Runs one relayed request; its answer as NATS headers and body.
async fn answer(
    router: Option<axum::Router>,
    headers: Option<&HeaderMap>,
    body: bytes::Bytes,
) -> (HeaderMap, bytes::Bytes) {
    let get = |name: &str| {
        headers
            .and_then(|h| h.get(name))
            .map(|v| v.as_str().to_string())
    };
    let method = get(relay_header::METHOD).unwrap_or_default();
    let path = get(relay_header::PATH).unwrap_or_default();
    let only_path = path.split('?').next().unwrap_or_default();
    if !matches!(method.as_str(), "GET" | "POST" | "PUT") || !is_relayed_path(only_path) {
        return plain(404, "not a page head office may relay");
    }
    let Some(router) = router else {
        return plain(503, "the hall is starting; try again in a moment");
    };
    let mut request = axum::http::Request::builder()
        .method(method.as_str())
        .uri(&path);
    for name in relay_header::CARRIED {
        if let Some(v) = get(name) {
            request = request.header(name, v);
        }
    }
    let Ok(mut request) = request.body(Body::from(body)) else {
        return plain(400, "not a request the hall understands");
    };
    // The phone's address, for the hall's per-client limits (head office
    // says who asked; port 0: there is no socket of the phone's here).
    let client = get(relay_header::CLIENT)
        .and_then(|c| c.parse::<IpAddr>().ok())
        .unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED));
    request
        .extensions_mut()
        .insert(ConnectInfo(SocketAddr::new(client, 0)));
    let mut router = router;
    let response = match router.call(request).await {
        Ok(r) => r,
        Err(never) => match never {},
    };
    let (parts, body) = response.into_parts();
    let Ok(body) = axum::body::to_bytes(body, RELAY_BODY_MAX).await else {
        return plain(502, "the hall's answer is too large to relay");
    };
    let mut out = HeaderMap::new();
    out.insert(relay_header::STATUS, parts.status.as_str());
    for name in relay_header::CARRIED {
        if let Some(v) = parts.headers.get(name).and_then(|v| v.to_str().ok()) {
            out.insert(name, v);
        }
    }
    (out, body)
}

fn plain(status: u16, text: &str) -> (HeaderMap, bytes::Bytes) {
    let mut out = HeaderMap::new();
    out.insert(relay_header::STATUS, status.to_string().as_str());
    out.insert("Content-Type", "text/plain; charset=utf-8");
    (out, bytes::Bytes::from(text.to_string()))
}
