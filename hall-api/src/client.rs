//! An async client for the queue-server API, used by the kiosk, the display
//! board, the bench and the tests, so that each speaks the API one way.

use std::time::Duration;

use futures_util::StreamExt;
use reqwest::{Method, StatusCode};
use serde::de::DeserializeOwned;

use crate::sse::SseParser;
use crate::*;

#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("cannot reach the queue server: {0}")]
    Transport(#[from] reqwest::Error),
    #[error("the queue server answered {status}: {message} ({code})")]
    Api {
        status: u16,
        code: String,
        message: String,
    },
    #[error("the queue server sent something unexpected: {0}")]
    Decode(String),
    #[error("TLS setup: {0}")]
    Tls(String),
}

impl ClientError {
    /// The HTTP status, when the server answered.
    pub fn status(&self) -> Option<u16> {
        match self {
            ClientError::Api { status, .. } => Some(*status),
            _ => None,
        }
    }
}

/// Checks a device's `[server]` section when its configuration is read:
/// an https url needs a readable hall CA, so the device does not start
/// and then fail at its first request.
pub fn check_device_server(
    file: &str,
    text: &str,
    url: &str,
    ca: Option<&std::path::Path>,
) -> Result<(), crate::config_error::ConfigError> {
    if !(url.starts_with("http://") || url.starts_with("https://")) {
        return Err(crate::config_error::ConfigError::at_key(
            file,
            text,
            "url",
            format!("server.url \"{url}\" is not a web address"),
            "give http://127.0.0.1:8080 on the server's own box, or https://HOST:8443 on the hall network",
        ));
    }
    HallClient::for_device(url, "", ca)
        .map(|_| ())
        .map_err(|e| {
            crate::config_error::ConfigError::at_key(
                file,
                text,
                if ca.is_some() { "ca" } else { "url" },
                e.to_string(),
                "copy the queue server's tls/ca.crt to this device and give its path as server.ca",
            )
        })
}

/// A client from `builder` trusting the system's CA store plus `extra`.
/// Where the system has no CA store (no ca-certificates package), `extra`
/// alone, with a warning, rather than failing: plain http needs no CA at
/// all, and the hall must run without one.
pub fn trusting_system_roots(
    builder: impl Fn() -> reqwest::ClientBuilder,
    extra: impl Fn() -> Vec<reqwest::Certificate>,
) -> reqwest::Client {
    match builder().tls_certs_merge(extra()).build() {
        Ok(client) => client,
        Err(e) => {
            tracing::warn!(
                "the system's CA store cannot be read ({e}): https trusts only the configured CA; install ca-certificates"
            );
            builder()
                .tls_certs_only(extra())
                .build()
                .expect("a client trusting only the given CAs needs no system store")
        }
    }
}

/// The certificates of a PEM file as rustls roots; `what` names the file
/// in the messages. May be empty: the caller says what an empty file means.
pub fn pem_roots(pem: &[u8], what: &str) -> Result<rustls::RootCertStore, String> {
    use rustls_pki_types::CertificateDer;
    use rustls_pki_types::pem::PemObject;
    let mut roots = rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_slice_iter(pem) {
        let cert = cert.map_err(|e| format!("{what} is not PEM: {e}"))?;
        roots
            .add(cert)
            .map_err(|e| format!("{what} holds an unusable certificate: {e}"))?;
    }
    Ok(roots)
}

/// rustls trusting only the certificates in `ca_pem`.
pub fn pinned_tls(ca_pem: &[u8]) -> Result<rustls::ClientConfig, ClientError> {
    let roots = pem_roots(ca_pem, "the hall CA file").map_err(ClientError::Tls)?;
    if roots.is_empty() {
        return Err(ClientError::Tls(
            "the hall CA file holds no certificate; copy ca.crt from the queue server".into(),
        ));
    }
    rustls::ClientConfig::builder_with_provider(
        rustls::crypto::aws_lc_rs::default_provider().into(),
    )
    .with_safe_default_protocol_versions()
    .map_err(|e| ClientError::Tls(e.to_string()))
    .map(|b| b.with_root_certificates(roots).with_no_client_auth())
}

/// What a counter action answers.
#[derive(Debug, Clone, PartialEq)]
pub enum ActionOutcome {
    /// The ticket the action concerned (for `transfer`, the new waiting one).
    Ticket(Box<Ticket>),
    /// For open, close, pause, resume: the counter after the change.
    Counter(Box<CounterView>),
    /// `call-next` with nobody waiting (204).
    NobodyWaiting,
}

#[derive(Clone, Debug)]
pub struct HallClient {
    base: String,
    token: String,
    http: reqwest::Client,
    timeout: Duration,
}

impl HallClient {
    /// `base` is the server's root, e.g. `http://127.0.0.1:8080`.
    pub fn new(base: impl Into<String>, token: impl Into<String>) -> Self {
        let http = trusting_system_roots(
            || reqwest::Client::builder().connect_timeout(Duration::from_secs(3)),
            Vec::new,
        );
        Self::with_http(base, token, http)
    }

    /// A client for a hall server on https that trusts only the hall's own
    /// CA (`ca_pem`, the `ca.crt` queue-server made): a device on the LAN
    /// with another certificate can neither read nor forge its traffic.
    pub fn pinned(
        base: impl Into<String>,
        token: impl Into<String>,
        ca_pem: &[u8],
    ) -> Result<Self, ClientError> {
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(3))
            .tls_backend_preconfigured(pinned_tls(ca_pem)?)
            .build()
            .map_err(ClientError::Transport)?;
        Ok(Self::with_http(base, token, http))
    }

    /// A device's client: for an `https://` server, trusting only the hall
    /// CA in the file `ca` (the server's `ca.crt`); for plain `http://`
    /// (loopback) no CA is needed.
    pub fn for_device(
        base: &str,
        token: &str,
        ca: Option<&std::path::Path>,
    ) -> Result<Self, ClientError> {
        match (base.starts_with("https://"), ca) {
            (true, Some(path)) => {
                let pem = std::fs::read(path).map_err(|e| {
                    ClientError::Tls(format!(
                        "cannot read the hall CA {}: {e}; copy ca.crt from the queue server there",
                        path.display()
                    ))
                })?;
                Self::pinned(base, token, &pem)
            }
            (true, None) => Err(ClientError::Tls(format!(
                "{base} is https: give the hall CA (server.ca = \"/etc/hall-queue/ca.crt\", the server's ca.crt)"
            ))),
            (false, _) => Ok(Self::new(base, token)),
        }
    }

    pub fn with_http(
        base: impl Into<String>,
        token: impl Into<String>,
        http: reqwest::Client,
    ) -> Self {
        let base = base.into().trim_end_matches('/').to_string();
        Self {
            base,
            token: token.into(),
            http,
            timeout: Duration::from_secs(10),
        }
    }

    /// The same client with another limit on each whole request (10 s by
    /// default); a kiosk with a customer in front of it waits less.
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    pub fn base(&self) -> &str {
        &self.base
    }

    fn request(&self, method: Method, path: &str) -> reqwest::RequestBuilder {
        self.http
            .request(method, format!("{}{}", self.base, path))
            .bearer_auth(&self.token)
            .timeout(self.timeout)
    }

    async fn send<T: DeserializeOwned>(
        &self,
        req: reqwest::RequestBuilder,
    ) -> Result<(StatusCode, Option<T>), ClientError> {
        let resp = req.send().await?;
        let status = resp.status();
        if status == StatusCode::NO_CONTENT {
            return Ok((status, None));
        }
        let bytes = resp.bytes().await?;
        if !status.is_success() {
            return Err(match serde_json::from_slice::<ErrorBody>(&bytes) {
                Ok(body) => ClientError::Api {
                    status: status.as_u16(),
                    code: body.error.code,
                    message: body.error.message,
                },
                Err(_) => ClientError::Api {
                    status: status.as_u16(),
                    code: "http".into(),
                    message: String::from_utf8_lossy(&bytes).into_owned(),
                },
            });
        }
        let value =
            serde_json::from_slice(&bytes).map_err(|e| ClientError::Decode(e.to_string()))?;
        Ok((status, Some(value)))
    }

    async fn get<T: DeserializeOwned>(&self, path: &str) -> Result<T, ClientError> {
        let (_, body) = self.send(self.request(Method::GET, path)).await?;
        body.ok_or_else(|| ClientError::Decode(format!("empty answer to GET {path}")))
    }

    /// A GET answering any text (for endpoints outside the API's types).
    pub async fn get_text(&self, path: &str) -> Result<String, ClientError> {
        let resp = self.request(Method::GET, path).send().await?;
        let status = resp.status();
        let text = resp.text().await?;
        if !status.is_success() {
            return Err(ClientError::Api {
                status: status.as_u16(),
                code: "http".into(),
                message: text,
            });
        }
        Ok(text)
    }

    /// Issues a ticket; the flag is true when it is new (201), false when the
    /// idempotency key had already issued it (200).
    pub async fn issue_ticket(&self, req: &IssueTicket) -> Result<(Ticket, bool), ClientError> {
        let (status, body) = self
            .send(self.request(Method::POST, "/api/v1/tickets").json(req))
            .await?;
        let ticket =
            body.ok_or_else(|| ClientError::Decode("empty answer to ticket issue".into()))?;
        Ok((ticket, status == StatusCode::CREATED))
    }

    /// Takes a ticket before arriving: `public` from a phone (no token), or
    /// for the company's app (with its token and `client`). The flag is
    /// true when it is new.
    pub async fn take_remote_ticket(
        &self,
        req: &RemoteTicketRequest,
        public: bool,
    ) -> Result<(RemoteTicket, bool), ClientError> {
        let path = if public {
            "/api/v1/public/remote-tickets"
        } else {
            "/api/v1/remote-tickets"
        };
        let (status, body) = self
            .send(self.request(Method::POST, path).json(req))
            .await?;
        let ticket =
            body.ok_or_else(|| ClientError::Decode("empty answer to a remote ticket".into()))?;
        Ok((ticket, status == StatusCode::CREATED))
    }

    /// Signs in as the floor guide; use the session's token in a new client.
    pub async fn guide_sign_in(&self, staff: &str, pin: &str) -> Result<GuideSession, ClientError> {
        let req = GuideSignIn {
            staff: staff.into(),
            pin: pin.into(),
        };
        let (_, body) = self
            .send(
                self.request(Method::POST, "/api/v1/guide/sign-in")
                    .json(&req),
            )
            .await?;
        body.ok_or_else(|| ClientError::Decode("empty answer to sign-in".into()))
    }

    /// Has ticket `id` printed at `kiosk` (the floor guide, the manager).
    pub async fn request_print(&self, id: i64, kiosk: &str) -> Result<PrintJob, ClientError> {
        let req = PrintRequest {
            kiosk: kiosk.into(),
        };
        let (_, body) = self
            .send(
                self.request(Method::POST, &format!("/api/v1/tickets/{id}/print"))
                    .json(&req),
            )
            .await?;
        body.ok_or_else(|| ClientError::Decode("empty answer to a print request".into()))
    }

    pub async fn print_job(&self, id: i64) -> Result<PrintJob, ClientError> {
        self.get(&format!("/api/v1/print-jobs/{id}")).await
    }

    /// The jobs waiting for this kiosk.
    pub async fn print_jobs(&self) -> Result<Vec<PrintJob>, ClientError> {
        self.get("/api/v1/print-jobs").await
    }

    /// Says what this kiosk's printer did with job `id`.
    pub async fn print_job_done(&self, id: i64, done: &PrintDone) -> Result<PrintJob, ClientError> {
        let (_, body) = self
            .send(
                self.request(Method::POST, &format!("/api/v1/print-jobs/{id}/done"))
                    .json(done),
            )
            .await?;
        body.ok_or_else(|| ClientError::Decode("empty answer to a print report".into()))
    }

    /// Books a slot: `public` from the booking page (no token), or for the
    /// company's app (its token and `client`). The flag is true when new.
    pub async fn book(
        &self,
        req: &BookingRequest,
        public: bool,
    ) -> Result<(Booking, bool), ClientError> {
        let path = if public {
            "/api/v1/public/bookings"
        } else {
            "/api/v1/bookings"
        };
        let (status, body) = self
            .send(self.request(Method::POST, path).json(req))
            .await?;
        let booking =
            body.ok_or_else(|| ClientError::Decode("empty answer to a booking".into()))?;
        Ok((booking, status == StatusCode::CREATED))
    }

    /// Closes the hall, or some services, for a time (manager).
    pub async fn add_closure(&self, closure: &NewClosure) -> Result<ClosureView, ClientError> {
        let (_, body) = self
            .send(self.request(Method::POST, "/api/v1/closures").json(closure))
            .await?;
        body.ok_or_else(|| ClientError::Decode("empty answer to a closure".into()))
    }

    /// Checks in a remote ticket by its six-digit code (a kiosk).
    pub async fn check_in(&self, code: &str) -> Result<Ticket, ClientError> {
        let req = CheckInRequest { code: code.into() };
        let (_, body) = self
            .send(self.request(Method::POST, "/api/v1/check-in").json(&req))
            .await?;
        body.ok_or_else(|| ClientError::Decode("empty answer to check-in".into()))
    }

    /// Checks in a remote ticket from its holder's phone with the hall's posted code.
    pub async fn check_in_on_phone(
        &self,
        tracking_code: &str,
        place: &str,
    ) -> Result<PublicTicket, ClientError> {
        let req = PlaceCheckIn {
            place: place.into(),
        };
        let (_, body) = self
            .send(
                self.request(
                    Method::POST,
                    &format!("/api/v1/public/tickets/{tracking_code}/check-in"),
                )
                .json(&req),
            )
            .await?;
        body.ok_or_else(|| ClientError::Decode("empty answer to check-in".into()))
    }

    pub async fn ticket(&self, id: i64) -> Result<Ticket, ClientError> {
        self.get(&format!("/api/v1/tickets/{id}")).await
    }

    /// Cancels a waiting or called ticket (e.g. one the kiosk could not print).
    pub async fn cancel_ticket(&self, id: i64) -> Result<Ticket, ClientError> {
        let (_, body) = self
            .send(self.request(Method::POST, &format!("/api/v1/tickets/{id}/cancel")))
            .await?;
        body.ok_or_else(|| ClientError::Decode("empty answer to cancel".into()))
    }

    pub async fn counter_action(
        &self,
        counter: u32,
        action: CounterAction,
        body: &CounterActionBody,
    ) -> Result<ActionOutcome, ClientError> {
        let path = format!("/api/v1/counters/{counter}/{}", action.as_str());
        let (_, value) = self
            .send::<serde_json::Value>(self.request(Method::POST, &path).json(body))
            .await?;
        let Some(value) = value else {
            return Ok(ActionOutcome::NobodyWaiting);
        };
        let decode = |e: serde_json::Error| ClientError::Decode(e.to_string());
        Ok(match action {
            CounterAction::Open
            | CounterAction::Close
            | CounterAction::Pause
            | CounterAction::Resume => {
                ActionOutcome::Counter(serde_json::from_value(value).map_err(decode)?)
            }
            _ => ActionOutcome::Ticket(Box::new(serde_json::from_value(value).map_err(decode)?)),
        })
    }

    /// `call-next`: the called ticket, or `None` when nobody waits.
    pub async fn call_next(&self, counter: u32) -> Result<Option<Ticket>, ClientError> {
        match self
            .counter_action(
                counter,
                CounterAction::CallNext,
                &CounterActionBody::default(),
            )
            .await?
        {
            ActionOutcome::Ticket(t) => Ok(Some(*t)),
            ActionOutcome::NobodyWaiting => Ok(None),
            ActionOutcome::Counter(_) => {
                Err(ClientError::Decode("call-next answered a counter".into()))
            }
        }
    }

    pub async fn hall(&self) -> Result<HallSnapshot, ClientError> {
        self.get("/api/v1/hall").await
    }

    pub async fn day_stats(&self, date: jiff::civil::Date) -> Result<DayStats, ClientError> {
        self.get(&format!("/api/v1/stats/day?date={date}")).await
    }

    /// The billing system's view of an account, through the server.
    pub async fn account(&self, account_ref: &str) -> Result<AccountInfo, ClientError> {
        self.get(&format!("/api/v1/accounts/{account_ref}")).await
    }

    /// Who this client's token belongs to.
    pub async fn whoami(&self) -> Result<Whoami, ClientError> {
        self.get("/api/v1/me").await
    }

    /// Sets a counter's PIN (manager).
    pub async fn set_pin(&self, counter: u32, pin: &str) -> Result<(), ClientError> {
        let req = self
            .request(Method::PUT, &format!("/api/v1/counters/{counter}/pin"))
            .json(&PinRequest { pin: pin.into() });
        self.send::<serde_json::Value>(req).await.map(|_| ())
    }

    /// Opens a counter session with its PIN; no token needed.
    pub async fn sign_in(&self, counter: u32, pin: &str) -> Result<CounterSession, ClientError> {
        self.sign_in_with(counter, &SignInRequest::counter_pin(pin))
            .await
    }

    /// Signs a member of staff in at a counter; no token needed.
    pub async fn sign_in_staff(
        &self,
        counter: u32,
        staff: &str,
        pin: &str,
    ) -> Result<CounterSession, ClientError> {
        self.sign_in_with(counter, &SignInRequest::staff(staff, pin))
            .await
    }

    async fn sign_in_with(
        &self,
        counter: u32,
        req: &SignInRequest,
    ) -> Result<CounterSession, ClientError> {
        let req = self
            .request(Method::POST, &format!("/api/v1/counters/{counter}/sign-in"))
            .json(req);
        let (_, body) = self.send(req).await?;
        body.ok_or_else(|| ClientError::Decode("empty answer to sign-in".into()))
    }

    /// Ends this client's session (a member of staff's attendance with it).
    pub async fn sign_out(&self) -> Result<(), ClientError> {
        let req = self.request(Method::POST, "/api/v1/sign-out");
        self.send::<serde_json::Value>(req).await.map(|_| ())
    }

    /// Adds a member of staff (manager).
    pub async fn add_staff(&self, staff: &NewStaff) -> Result<StaffMember, ClientError> {
        let req = self.request(Method::POST, "/api/v1/staff").json(staff);
        let (_, body) = self.send(req).await?;
        body.ok_or_else(|| ClientError::Decode("empty answer to adding staff".into()))
    }

    /// Every member of staff (manager).
    pub async fn staff(&self) -> Result<Vec<StaffMember>, ClientError> {
        self.get("/api/v1/staff").await
    }

    /// Rates a completed ticket from the counter's rater.
    pub async fn rate(&self, ticket_id: i64, req: &RateRequest) -> Result<Rating, ClientError> {
        let req = self
            .request(Method::POST, &format!("/api/v1/tickets/{ticket_id}/rating"))
            .json(req);
        let (_, body) = self.send(req).await?;
        body.ok_or_else(|| ClientError::Decode("empty answer to a rating".into()))
    }

    /// Rates one's own completed ticket from its phone page; no token needed.
    pub async fn rate_on_phone(
        &self,
        tracking_code: &str,
        req: &RateRequest,
    ) -> Result<(), ClientError> {
        let req = self
            .request(
                Method::POST,
                &format!("/api/v1/public/tickets/{tracking_code}/rating"),
            )
            .json(req);
        self.send::<serde_json::Value>(req).await.map(|_| ())
    }

    /// A business day's ratings (manager).
    pub async fn ratings(&self, date: jiff::civil::Date) -> Result<Vec<Rating>, ClientError> {
        self.get(&format!("/api/v1/ratings?date={date}")).await
    }

    /// Follow-ups of bad ratings: open ones, or all (manager).
    pub async fn follow_ups(&self, all: bool) -> Result<Vec<FollowUp>, ClientError> {
        self.get(&format!("/api/v1/follow-ups?all={all}")).await
    }

    pub async fn update_follow_up(
        &self,
        id: i64,
        update: &FollowUpUpdate,
    ) -> Result<FollowUp, ClientError> {
        let req = self
            .request(Method::PUT, &format!("/api/v1/follow-ups/{id}"))
            .json(update);
        let (_, body) = self.send(req).await?;
        body.ok_or_else(|| ClientError::Decode("empty answer to a follow-up".into()))
    }

    /// Disables a member of staff who left (manager).
    pub async fn disable_staff(&self, number: &str) -> Result<(), ClientError> {
        let req = self.request(Method::POST, &format!("/api/v1/staff/{number}/disable"));
        self.send::<serde_json::Value>(req).await.map(|_| ())
    }

    /// The tickets a counter would call, in calling order.
    pub async fn counter_queue(&self, counter: u32) -> Result<Vec<TicketSummary>, ClientError> {
        self.get(&format!("/api/v1/counters/{counter}/queue")).await
    }

    /// A ticket as its holder sees it; no token needed.
    pub async fn public_ticket(&self, tracking_code: &str) -> Result<PublicTicket, ClientError> {
        self.get(&format!("/api/v1/public/tickets/{tracking_code}"))
            .await
    }

    /// Delivery state of every webhook (manager).
    pub async fn webhooks(&self) -> Result<Vec<WebhookStatus>, ClientError> {
        self.get("/api/v1/webhooks").await
    }

    /// Reports this device's state (kiosk, display).
    pub async fn heartbeat(&self, beat: &Heartbeat) -> Result<(), ClientError> {
        let req = self
            .request(Method::POST, "/api/v1/devices/heartbeat")
            .json(beat);
        self.send::<serde_json::Value>(req).await.map(|_| ())
    }

    /// Every configured device and what it last reported.
    pub async fn devices(&self) -> Result<Vec<DeviceStatus>, ClientError> {
        self.get("/api/v1/devices").await
    }

    pub async fn health(&self) -> Result<Health, ClientError> {
        self.get("/healthz").await
    }

    /// Opens the event stream, resuming after `last_event_id` when given.
    pub async fn events(&self, last_event_id: Option<i64>) -> Result<EventStream, ClientError> {
        let mut req = self
            .http
            .get(format!("{}/api/v1/events", self.base))
            .bearer_auth(&self.token)
            .header("accept", "text/event-stream");
        if let Some(id) = last_event_id {
            req = req.header("last-event-id", id.to_string());
        }
        let resp = req.send().await?;
        if !resp.status().is_success() {
            let status = resp.status().as_u16();
            let bytes = resp.bytes().await.unwrap_or_default();
            let (code, message) = serde_json::from_slice::<ErrorBody>(&bytes)
                .map(|b| (b.error.code, b.error.message))
                .unwrap_or_else(|_| ("http".into(), String::from_utf8_lossy(&bytes).into_owned()));
            return Err(ClientError::Api {
                status,
                code,
                message,
            });
        }
        Ok(EventStream {
            body: Box::pin(resp.bytes_stream()),
            parser: SseParser::new(),
            pending: Default::default(),
        })
    }
}

type ByteStream =
    std::pin::Pin<Box<dyn futures_util::Stream<Item = reqwest::Result<bytes::Bytes>> + Send>>;

/// Whether `data` is an event whose kind this version does not know.
fn is_unknown_kind(data: &str) -> bool {
    #[derive(serde::Deserialize)]
    struct Kind {
        kind: String,
    }
    serde_json::from_str::<Kind>(data).is_ok_and(|k| EventKind::parse(&k.kind).is_none())
}

/// One connection's worth of events, in id order.
pub struct EventStream {
    body: ByteStream,
    parser: SseParser,
    pending: std::collections::VecDeque<Event>,
}

impl EventStream {
    /// The next event; `None` when the server closed the stream.
    pub async fn next(&mut self) -> Option<Result<Event, ClientError>> {
        loop {
            if let Some(ev) = self.pending.pop_front() {
                return Some(Ok(ev));
            }
            match self.body.next().await? {
                Err(e) => return Some(Err(e.into())),
                Ok(chunk) => {
                    for msg in self.parser.feed(&chunk) {
                        match serde_json::from_str::<Event>(&msg.data) {
                            Ok(ev) => self.pending.push_back(ev),
                            // A kind newer than this client is not for it:
                            // a device older than its server follows the
                            // rest instead of breaking on it forever.
                            Err(_) if is_unknown_kind(&msg.data) => {
                                tracing::debug!(id = ?msg.id, "skipped an event of a kind this version does not know");
                            }
                            Err(e) => {
                                return Some(Err(ClientError::Decode(format!(
                                    "event {:?}: {e}",
                                    msg.id
                                ))));
                            }
                        }
                    }
                }
            }
        }
    }
}
