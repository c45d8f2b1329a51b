//! Bearer-token authentication: each device presents its own token and acts
//! with its configured role.

use std::collections::HashMap;

use axum::extract::{FromRequestParts, Query};
use axum::http::request::Parts;

use hall_api::StaffRef;

use crate::api::AppState;
use crate::config::Role;
use crate::error::Error;
use crate::hall::Actor;

/// The authenticated device making the request.
#[derive(Debug, Clone)]
pub struct Caller {
    pub name: String,
    pub role: Role,
    /// For counter devices: the one counter they may act on.
    pub counter: Option<u32>,
    /// For a member of staff's session: who.
    pub staff: Option<StaffRef>,
    /// For a manager signed in to the console (by its cookie): their name.
    pub console: Option<String>,
}

impl Caller {
    pub fn actor(&self) -> Actor {
        Actor {
            name: self.name.clone(),
            role: self.role,
            staff: self.staff.clone(),
        }
    }

    /// Refuses with 403 unless the caller has one of `roles`.
    pub fn require(&self, roles: &[Role], doing: &str) -> Result<(), Error> {
        if roles.contains(&self.role) {
            return Ok(());
        }
        Err(Error::Forbidden(format!(
            "device \"{}\" (role {}) may not {doing}; that needs role {}",
            self.name,
            role_name(self.role),
            roles
                .iter()
                .map(|r| role_name(*r))
                .collect::<Vec<_>>()
                .join(" or ")
        )))
    }
}

impl Caller {
    /// Refuses with 403 unless the caller may act on counter `number`:
    /// billing and manager on any, a counter device or PIN session on its own.
    pub fn require_counter(&self, number: u32, doing: &str) -> Result<(), Error> {
        self.require(&[Role::Counter, Role::Billing, Role::Manager], doing)?;
        if self.role == Role::Counter && self.counter != Some(number) {
            return Err(Error::Forbidden(format!(
                "device \"{}\" may act on counter {} only, not counter {number}",
                self.name,
                self.counter.unwrap_or_default()
            )));
        }
        Ok(())
    }
}

/// How a session appears as an event's `by`.
pub fn session_name(counter: u32, staff: Option<&StaffRef>) -> String {
    match staff {
        Some(s) => format!("counter-{counter} ({} {})", s.number, s.name),
        None => format!("counter-{counter} (PIN)"),
    }
}

/// How a floor guide's session appears as an event's `by`.
pub fn guide_name(staff: &StaffRef) -> String {
    format!("guide ({} {})", staff.number, staff.name)
}

pub fn role_name(role: Role) -> &'static str {
    match role {
        Role::Kiosk => "kiosk",
        Role::Display => "display",
        Role::Counter => "counter",
        Role::Billing => "billing",
        Role::Manager => "manager",
        Role::Rater => "rater",
        Role::Guide => "guide",
    }
}

/// The one endpoint that takes its token in the query: browsers'
/// EventSource cannot set headers. Anywhere else a token in a URL would end
/// up in logs and browser history, so it is not looked at.
const QUERY_TOKEN_PATH: &str = "/api/v1/events";

/// The token of `Authorization: Bearer …`.
pub fn bearer(headers: &axum::http::HeaderMap) -> Option<String> {
    let value = headers
        .get(axum::http::header::AUTHORIZATION)?
        .to_str()
        .ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim().to_string())
}

/// The token from `Authorization: Bearer …`, or on the event stream from
/// `access_token=` in the query (percent-decoded).
fn token(parts: &Parts) -> Option<String> {
    if parts
        .headers
        .contains_key(axum::http::header::AUTHORIZATION)
    {
        return bearer(&parts.headers);
    }
    if parts.method != axum::http::Method::GET || parts.uri.path() != QUERY_TOKEN_PATH {
        return None;
    }
    let Query(mut query) = Query::<HashMap<String, String>>::try_from_uri(&parts.uri).ok()?;
    query.remove("access_token")
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = Error;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let Some(token) = token(parts) else {
            if let Some(cookie) = console_cookie(&parts.headers) {
                return console_caller(parts, state, &cookie).await;
            }
            return Err(Error::Unauthorized(
                "no token: send `Authorization: Bearer <device token>` from the hall configuration \
                 (a token in the URL is taken on the event stream only), or sign in to the console"
                    .into(),
            ));
        };
        if let Some(device) = state.hall.now().device_by_token(&token) {
            if let Some(axum::extract::ConnectInfo(peer)) =
                parts
                    .extensions
                    .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
            {
                state.devices.note_address(&device.name, peer.ip());
            }
            return Ok(Caller {
                name: device.name.clone(),
                role: device.role,
                counter: device.counter,
                staff: None,
                console: None,
            });
        }
        // Not a device: perhaps a session a PIN sign-in opened, at a
        // counter or as the floor guide.
        let hash = crate::tokens::sha256(&token);
        let now = crate::store::queries::ms(state.clock.read().at);
        let found = state
            .reads
            .run(move |conn| {
                use crate::store::queries::{guide_session, session_counter};
                Ok(match session_counter(conn, &hash, now)? {
                    Some(at_counter) => Some(Ok(at_counter)),
                    None => guide_session(conn, &hash, now)?.map(Err),
                })
            })
            .await?
            .ok_or_else(|| {
                Error::Unauthorized(
                    "unknown or expired token: sign in again, or check the device's token in the hall configuration".into(),
                )
            })?;
        Ok(match found {
            Ok((counter, staff)) => Caller {
                name: session_name(counter, staff.as_ref()),
                role: Role::Counter,
                counter: Some(counter),
                staff,
                console: None,
            },
            Err(guide) => Caller {
                name: guide_name(&guide),
                role: Role::Guide,
                counter: None,
                staff: Some(guide),
                console: None,
            },
        })
    }
}

/// The manager console's session cookie: HttpOnly (no script reads it),
/// SameSite=Strict (no other site's page sends it), Secure over HTTPS.
pub const CONSOLE_COOKIE: &str = "hall_console";
/// A console request that changes something carries this header: a form
/// or link on another site cannot set it, so even a browser that ignored
/// SameSite would not let another page act for the manager.
pub const CONSOLE_HEADER: &str = "x-hall-console";

/// The console cookie's value, if the request carries one.
pub fn console_cookie(headers: &axum::http::HeaderMap) -> Option<String> {
    cookie_value(headers, CONSOLE_COOKIE)
}

/// The value of the cookie called `name`, if the request carries it.
pub fn cookie_value(headers: &axum::http::HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(axum::http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(n, _)| *n == name)
        .map(|(_, value)| value.trim().to_string())
        .filter(|v| !v.is_empty())
}

async fn console_caller(parts: &Parts, state: &AppState, cookie: &str) -> Result<Caller, Error> {
    let safe = matches!(
        parts.method,
        axum::http::Method::GET | axum::http::Method::HEAD
    );
    if !safe && !parts.headers.contains_key(CONSOLE_HEADER) {
        return Err(Error::Forbidden(format!(
            "a change from the console must carry the {CONSOLE_HEADER} header (the console's own pages send it)"
        )));
    }
    let hash = crate::tokens::sha256(cookie);
    let now = crate::store::queries::ms(state.clock.read().at);
    let (name, _) = state
        .reads
        .run(move |conn| crate::store::managers::manager_session(conn, &hash, now))
        .await?
        .ok_or_else(|| {
            Error::Unauthorized(
                "the console session has ended (signed out, expired, or the account was changed); sign in again"
                    .into(),
            )
        })?;
    Ok(Caller {
        name: format!("{name} (manager)"),
        role: Role::Manager,
        counter: None,
        staff: None,
        console: Some(name),
    })
}
