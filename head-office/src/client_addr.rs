//! Who is asking: the peer's address, or, when the peer is one of the
//! company's own reverse proxies (`trusted_proxies`), the address it says
//! it forwarded for. Per-address limits (a phone's remote tickets at its
//! hall, sign-in guessing) need the phone's or the user's own address:
//! behind a proxy every request would otherwise come from the proxy.

use std::net::{IpAddr, SocketAddr};

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;

use crate::web::AppState;

/// The client's address, as [`client_address`] finds it.
#[derive(Debug, Clone, Copy)]
pub struct ClientAddr(pub IpAddr);

impl FromRequestParts<AppState> for ClientAddr {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, st: &AppState) -> Result<Self, Self::Rejection> {
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map_or(IpAddr::from([0, 0, 0, 0]), |c| c.0.ip());
        let forwarded: Vec<&str> = parts
            .headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .collect();
        Ok(ClientAddr(client_address(
            peer,
            &forwarded.join(","),
            &st.trusted_proxies,
        )))
    }
}

/// The peer, unless it is a trusted proxy: then the nearest address in
/// `X-Forwarded-For` (read from the right, each proxy appends the one it
/// heard from) that is not itself a trusted proxy. What lies left of an
/// untrusted or unreadable entry was written by the client and is ignored.
pub fn client_address(peer: IpAddr, forwarded_for: &str, trusted: &[IpAddr]) -> IpAddr {
    let mut client = peer;
    if !trusted.contains(&peer) {
        return client;
    }
    for hop in forwarded_for
        .rsplit(',')
        .map(str::trim)
        .filter(|h| !h.is_empty())
    {
        let Ok(ip) = hop.parse::<IpAddr>() else {
            break;
        };
        client = ip;
        if !trusted.contains(&ip) {
            break;
        }
    }
    client
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn only_a_trusted_proxy_is_believed_and_only_for_what_it_added() {
        let proxies = [ip("10.0.0.5"), ip("10.0.0.6")];
        let phone = ip("203.0.113.7");
        // Straight from the phone: its header is its own word, ignored.
        assert_eq!(client_address(phone, "198.51.100.1", &proxies), phone);
        // Through the proxy: the address it heard from.
        assert_eq!(
            client_address(ip("10.0.0.5"), "203.0.113.7", &proxies),
            phone
        );
        // A forged entry left of what the proxy added stays ignored.
        assert_eq!(
            client_address(ip("10.0.0.5"), "198.51.100.1, 203.0.113.7", &proxies),
            phone
        );
        // Through two of the company's proxies.
        assert_eq!(
            client_address(ip("10.0.0.5"), "203.0.113.7, 10.0.0.6", &proxies),
            phone
        );
        // No header, or nothing readable: the proxy itself.
        assert_eq!(client_address(ip("10.0.0.5"), "", &proxies), ip("10.0.0.5"));
        assert_eq!(
            client_address(ip("10.0.0.5"), "unknown", &proxies),
            ip("10.0.0.5")
        );
        assert_eq!(
            client_address(ip("10.0.0.5"), "2001:db8::7", &proxies),
            ip("2001:db8::7")
        );
    }
}
