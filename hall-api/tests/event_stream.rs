//! A device older than its server: the server's stream carries a kind of
//! event this version does not know. The client skips it and goes on with
//! the rest, instead of breaking on it and resuming into it forever.
#![cfg(feature = "client")]

use hall_api::EventKind;
use hall_api::client::HallClient;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

fn event(id: i64, kind: &str) -> String {
    let data = serde_json::json!({
        "id": id, "kind": kind, "at": "2026-12-04T02:00:00Z", "ticket": null,
        "counter": null, "by": "queue-server", "waiting": [],
    });
    format!("id: {id}\nevent: {kind}\ndata: {data}\n\n")
}

/// A server on loopback that answers one request with `body` as an event
/// stream, then closes; its base URL.
async fn stream_once(body: String) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let (mut conn, _) = listener.accept().await.unwrap();
        let mut request = vec![0u8; 4096];
        let _ = conn.read(&mut request).await.unwrap();
        let head =
            "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\nconnection: close\r\n\r\n";
        conn.write_all(head.as_bytes()).await.unwrap();
        conn.write_all(body.as_bytes()).await.unwrap();
        conn.shutdown().await.unwrap();
    });
    format!("http://{addr}")
}

#[tokio::test]
async fn events_of_a_newer_kind_are_skipped_and_the_rest_follow() {
    let body = [
        event(7, "notice.changed"),
        event(8, "hall.renovated"),
        event(9, "service.closed"),
    ]
    .concat();
    let client = HallClient::new(stream_once(body).await, "demo-display");
    let mut stream = client.events(Some(6)).await.unwrap();
    let mut seen = Vec::new();
    while let Some(ev) = stream.next().await {
        let ev = ev.expect("no event breaks the stream");
        seen.push((ev.id, ev.kind));
    }
    assert_eq!(
        seen,
        [(7, EventKind::NoticeChanged), (9, EventKind::ServiceClosed)]
    );
}

#[tokio::test]
async fn a_known_kind_that_does_not_read_is_still_an_error() {
    let body = "id: 7\nevent: ticket.called\ndata: {\"id\": 7, \"kind\": \"ticket.called\"}\n\n";
    let client = HallClient::new(stream_once(body.into()).await, "demo-display");
    let mut stream = client.events(Some(6)).await.unwrap();
    let first = stream.next().await.expect("an answer");
    assert!(first.is_err(), "{first:?}");
}
