//! What keeps PIN sign-in from being guessed, from locking staff out, and
//! from starving the hall:
//!
//! - [`PinGuard`] hands out a limited number of attempts per PIN (a
//!   counter's, or a member of staff's) and client address in each window, *before* the PIN is checked, so forty
//!   guesses sent at once get five evaluations, not forty. An address that
//!   guesses wrong locks only itself out; all addresses together have a
//!   ceiling per counter, so many addresses cannot guess much faster and
//!   staff are shut out for one window at most.
//! - [`PinHasher`] runs Argon2 on one thread of its own with a short queue:
//!   sign-ins never take the threads the database reads run on, at most one
//!   Argon2 buffer exists at a time, and a flood is refused at once.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use tokio::sync::{mpsc, oneshot};

use crate::error::{Error, Result};

/// Wrong PINs one address may try at one counter per window.
pub const PER_ADDRESS: u32 = 5;
/// Wrong PINs all addresses together may try at one counter per window.
pub const PER_COUNTER: u32 = 20;
pub const WINDOW: Duration = Duration::from_secs(60);
/// Sign-ins waiting for the hasher before more are refused.
const HASH_QUEUE: usize = 16;

/// Attempts used in the current window (wrong PINs and those in flight).
#[derive(Debug, Clone, Copy)]
struct Window {
    started: Instant,
    used: u32,
}

impl Window {
    fn fresh() -> Window {
        Window {
            started: Instant::now(),
            used: 0,
        }
    }

    /// The window as it is now: an expired one starts again.
    fn current(&mut self) -> &mut Window {
        if self.started.elapsed() >= WINDOW {
            *self = Window::fresh();
        }
        self
    }

    fn retry_after(&self) -> u64 {
        WINDOW.saturating_sub(self.started.elapsed()).as_secs() + 1
    }

    /// A 429 once `limit` attempts are used, saying (for `{s}`) how long to wait.
    fn refuse_at(&self, limit: u32, message: &str) -> Result<()> {
        if self.used < limit {
            return Ok(());
        }
        let wait = self.retry_after();
        Err(Error::TooMany(
            message.replace("{s}", &wait.to_string()),
            wait,
        ))
    }
}

#[derive(Debug)]
struct CounterAttempts {
    all: Window,
    by_address: HashMap<IpAddr, Window>,
}

/// Whose PIN is being tried: a counter's own, or a member of staff's.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum PinOf {
    Counter(u32),
    Staff(String),
    /// A manager's password at the console.
    Manager(String),
}

impl PinOf {
    /// What is guessed at, in the plural, for messages.
    fn secrets(&self) -> &'static str {
        match self {
            PinOf::Manager(_) => "passwords",
            _ => "PINs",
        }
    }
}

impl std::fmt::Display for PinOf {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PinOf::Counter(n) => write!(f, "counter {n}"),
            PinOf::Staff(n) => write!(f, "staff {n}"),
            PinOf::Manager(n) => write!(f, "manager {n}"),
        }
    }
}

#[derive(Debug, Default)]
pub struct PinGuard {
    counters: Mutex<HashMap<PinOf, CounterAttempts>>,
}

/// One reserved attempt. Dropped without [`Attempt::succeeded`], it counts
/// as a wrong PIN.
pub struct Attempt<'g> {
    guard: &'g PinGuard,
    counter: PinOf,
    address: IpAddr,
}

impl PinGuard {
    /// Reserves an attempt at the PIN of `counter` (a counter's or a
    /// member of staff's) from `address`, or refuses with 429 and how long
    /// to wait.
    pub fn begin(&self, counter: PinOf, address: IpAddr) -> Result<Attempt<'_>> {
        let mut map = self.counters.lock().unwrap_or_else(|p| p.into_inner());
        // Forget what has expired, so the table cannot grow without bound.
        map.retain(|_, c| {
            c.by_address.retain(|_, w| w.started.elapsed() < WINDOW);
            !c.by_address.is_empty() || c.all.started.elapsed() < WINDOW
        });
        let c = map
            .entry(counter.clone())
            .or_insert_with(|| CounterAttempts {
                all: Window::fresh(),
                by_address: HashMap::new(),
            });
        let own = c
            .by_address
            .entry(address)
            .or_insert_with(Window::fresh)
            .current();
        own.refuse_at(
            PER_ADDRESS,
            &format!("too many wrong {} for {counter} from this device; wait {{s}} s, or ask the manager", counter.secrets()),
        )?;
        let own_used = &mut own.used;
        let all = c.all.current();
        all.refuse_at(
            PER_COUNTER,
            &format!(
                "too many wrong {} for {counter}; sign-in with it is paused for {{s}} s",
                counter.secrets()
            ),
        )?;
        all.used += 1;
        *own_used += 1;
        Ok(Attempt {
            guard: self,
            counter,
            address,
        })
    }
}

impl PinGuard {
    /// Forgets the attempts at `whose` PIN or password: after a manager set
    /// a new one, its owner may sign in at once.
    pub fn forget(&self, whose: &PinOf) {
        let mut map = self.counters.lock().unwrap_or_else(|p| p.into_inner());
        map.remove(whose);
    }
}

impl Attempt<'_> {
    /// The right PIN: this address starts afresh, and its attempts no longer
    /// count against the counter.
    pub fn succeeded(self) {
        let mut map = self
            .guard
            .counters
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        if let Some(c) = map.get_mut(&self.counter)
            && let Some(own) = c.by_address.remove(&self.address)
        {
            c.all.used = c.all.used.saturating_sub(own.used);
        }
    }
}

/// Argon2id as the server uses it: 19 MiB, two passes, one lane (OWASP's
/// recommendation). About 30 ms on this machine's release build and, by
/// its memory bandwidth, some 150 ms on a Raspberry Pi 4: slow enough
/// against guessing, and the one buffer fits a 1 GB Pi many times over.
fn argon2() -> Argon2<'static> {
    let params = Params::new(19 * 1024, 2, 1, None).expect("valid Argon2 parameters");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

enum Job {
    Hash {
        pin: String,
        reply: oneshot::Sender<Result<String>>,
    },
    Verify {
        pin: String,
        /// `None`: there is no such PIN; spend the same time and say no.
        hash: Option<String>,
        reply: oneshot::Sender<bool>,
    },
}

/// The thread that hashes and verifies PINs, one at a time.
#[derive(Clone)]
pub struct PinHasher {
    jobs: mpsc::Sender<Job>,
}

impl Default for PinHasher {
    fn default() -> Self {
        Self::start()
    }
}

impl PinHasher {
    pub fn start() -> PinHasher {
        let (jobs, mut rx) = mpsc::channel::<Job>(HASH_QUEUE);
        std::thread::Builder::new()
            .name("pin-hasher".into())
            .spawn(move || {
                // Verified against when the PIN asked for does not exist,
                // so an unknown staff number takes as long as a wrong PIN.
                let mut stand_in: Option<String> = None;
                while let Some(job) = rx.blocking_recv() {
                    match job {
                        Job::Hash { pin, reply } => {
                            let _ = reply.send(hash(&pin));
                        }
                        Job::Verify { pin, hash, reply } => {
                            let real = hash.is_some();
                            let hash = match hash {
                                Some(h) => h,
                                None => stand_in
                                    .get_or_insert_with(|| self::hash("0000").unwrap_or_default())
                                    .clone(),
                            };
                            let ok = PasswordHash::new(&hash).is_ok_and(|h| {
                                argon2().verify_password(pin.as_bytes(), &h).is_ok()
                            });
                            let _ = reply.send(ok && real);
                        }
                    }
                    crate::release_freed_memory();
                }
            })
            .expect("spawning the PIN hasher thread");
        PinHasher { jobs }
    }

    fn submit(&self, job: Job) -> Result<()> {
        self.jobs.try_send(job).map_err(|_| {
            Error::Unavailable("too many sign-ins at once; try again in a moment".into())
        })
    }

    /// The PHC string of a new PIN, with a fresh salt.
    pub async fn hash(&self, pin: String) -> Result<String> {
        let (reply, answer) = oneshot::channel();
        self.submit(Job::Hash { pin, reply })?;
        answer
            .await
            .map_err(|_| Error::Internal("the PIN hasher stopped".into()))?
    }

    /// Whether `pin` matches the stored `hash`; with no hash (no such PIN)
    /// false, after as long as a real check takes.
    pub async fn verify(&self, pin: String, hash: Option<String>) -> Result<bool> {
        let (reply, answer) = oneshot::channel();
        self.submit(Job::Verify { pin, hash, reply })?;
        answer
            .await
            .map_err(|_| Error::Internal("the PIN hasher stopped".into()))
    }
}

/// The PHC string of a new PIN, with a fresh salt, on this thread (for
/// the command line; the server uses [`PinHasher`]).
pub fn hash_pin(pin: &str) -> Result<String> {
    hash(pin)
}

fn hash(pin: &str) -> Result<String> {
    let mut salt = [0u8; 16];
    getrandom::fill(&mut salt)
        .map_err(|e| Error::Internal(format!("no randomness for the salt: {e}")))?;
    let salt = SaltString::encode_b64(&salt).map_err(|e| Error::Internal(e.to_string()))?;
    argon2()
        .hash_password(pin.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| Error::Internal(format!("hashing the PIN failed: {e}")))
}

/// Argon2's 19 MiB buffer is freed after each PIN, but glibc keeps freed
/// memory of its heap for reuse: give it back to the system, so sign-ins
/// leave the server as small as they found it.
#[cfg(test)]
mod tests {
    use super::*;

    fn addr(last: u8) -> IpAddr {
        IpAddr::from([127, 0, 0, last])
    }

    #[test]
    fn attempts_in_flight_count_before_the_pin_is_checked() {
        let g = PinGuard::default();
        let held: Vec<_> = (0..PER_ADDRESS)
            .map(|_| g.begin(PinOf::Counter(1), addr(1)).unwrap())
            .collect();
        assert!(
            matches!(g.begin(PinOf::Counter(1), addr(1)), Err(Error::TooMany(_, s)) if (1..=61).contains(&s))
        );
        drop(held);
        assert!(
            g.begin(PinOf::Counter(1), addr(1)).is_err(),
            "dropped attempts were wrong PINs"
        );
        // Another address, another counter: not locked.
        g.begin(PinOf::Counter(1), addr(2)).unwrap().succeeded();
        g.begin(PinOf::Counter(2), addr(1)).unwrap().succeeded();
    }

    #[test]
    fn many_addresses_meet_the_counters_ceiling_and_a_right_pin_clears_its_own() {
        let g = PinGuard::default();
        for a in 0..(PER_COUNTER / PER_ADDRESS) {
            for _ in 0..PER_ADDRESS {
                let _wrong_pin = g.begin(PinOf::Counter(7), addr(10 + a as u8)).unwrap();
            }
        }
        let e = g
            .begin(PinOf::Counter(7), addr(99))
            .err()
            .expect("the ceiling");
        assert!(e.to_string().contains("paused"), "{e}");

        let g = PinGuard::default();
        let _wrong_pin = g.begin(PinOf::Counter(3), addr(1)).unwrap();
        g.begin(PinOf::Counter(3), addr(1)).unwrap().succeeded();
        for _ in 0..PER_ADDRESS {
            let _wrong_pin = g.begin(PinOf::Counter(3), addr(1)).unwrap();
        }
        assert!(g.begin(PinOf::Counter(3), addr(1)).is_err());
    }
}
