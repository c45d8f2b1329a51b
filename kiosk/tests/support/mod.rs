//! A simulated ESC/POS thermal printer for the kiosk's tests and bench: it
//! sits on the far end of a serial pair or listens on TCP, reads commands the
//! way a printer does (skipping image and QR payloads), answers status
//! requests from its current condition, and hands over each job at its cut.

#![allow(dead_code)] // each test file uses a different part

use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpListener};
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc::{Receiver, Sender, channel};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use kiosk::printer::status::bytes;

/// The printer's condition, as its status replies tell it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Condition {
    Ready,
    PaperNearEnd,
    PaperOut,
    CoverOpen,
    /// Powered off or hung: never answers.
    Silent,
    /// Answers "ready", then runs out of paper as soon as data arrives.
    RunsOutWhilePrinting,
}

struct Shared {
    condition: Mutex<Condition>,
    status_requests: AtomicUsize,
    stop: AtomicBool,
    /// When the last byte of the last job arrived.
    last_byte_at: Mutex<Option<Instant>>,
}

pub struct SimPrinter {
    shared: Arc<Shared>,
    jobs: Receiver<Vec<u8>>,
    pub tcp: Option<SocketAddr>,
}

impl SimPrinter {
    /// A printer on the device end of a serial pair.
    pub fn on_serial(device: &Path) -> SimPrinter {
        let port = serialport::new(device.to_string_lossy(), 19_200)
            .timeout(Duration::from_millis(20))
            .open()
            .expect("opening the device end of the serial pair");
        let (shared, jobs, tx) = Self::parts();
        let s = shared.clone();
        std::thread::spawn(move || serve(port, &s, &tx));
        SimPrinter {
            shared,
            jobs,
            tcp: None,
        }
    }

    /// A network printer on 127.0.0.1 (one connection at a time, like most).
    pub fn on_tcp() -> SimPrinter {
        let listener = TcpListener::bind("127.0.0.1:0").expect("a local port");
        let addr = listener.local_addr().unwrap();
        let (shared, jobs, tx) = Self::parts();
        let s = shared.clone();
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                if s.stop.load(Ordering::Relaxed) {
                    return;
                }
                let Ok(conn) = conn else { continue };
                conn.set_read_timeout(Some(Duration::from_millis(20)))
                    .unwrap();
                conn.set_nodelay(true).unwrap();
                serve(conn, &s, &tx);
            }
        });
        SimPrinter {
            shared,
            jobs,
            tcp: Some(addr),
        }
    }

    fn parts() -> (Arc<Shared>, Receiver<Vec<u8>>, Sender<Vec<u8>>) {
        let shared = Arc::new(Shared {
            condition: Mutex::new(Condition::Ready),
            status_requests: AtomicUsize::new(0),
            stop: AtomicBool::new(false),
            last_byte_at: Mutex::new(None),
        });
        let (tx, rx) = channel();
        (shared, rx, tx)
    }

    pub fn set(&self, condition: Condition) {
        *self.shared.condition.lock().unwrap() = condition;
    }

    /// The next complete job (up to and including its cut).
    pub fn next_job(&self, timeout: Duration) -> Option<Vec<u8>> {
        self.jobs.recv_timeout(timeout).ok()
    }

    pub fn status_requests(&self) -> usize {
        self.shared.status_requests.load(Ordering::Relaxed)
    }

    pub fn last_byte_at(&self) -> Option<Instant> {
        *self.shared.last_byte_at.lock().unwrap()
    }
}

impl Drop for SimPrinter {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::Relaxed);
        if let Some(addr) = self.tcp {
            // Wake the accept loop so it sees the stop flag.
            let _ = std::net::TcpStream::connect(addr);
        }
    }
}

/// Reads one connection until it closes (or the printer is dropped).
fn serve(mut io: impl Read + Write, shared: &Shared, jobs: &Sender<Vec<u8>>) {
    let mut job = Vec::new();
    let mut pending: Vec<u8> = Vec::new();
    let mut got_data = false;
    let mut buf = [0u8; 4096];
    while !shared.stop.load(Ordering::Relaxed) {
        let n = match io.read(&mut buf) {
            Ok(0) => return,
            Ok(n) => n,
            Err(e) if matches!(e.kind(), ErrorKind::TimedOut | ErrorKind::WouldBlock) => continue,
            Err(_) => return,
        };
        pending.extend_from_slice(&buf[..n]);
        // Take whole commands off the front; keep a partial one for later.
        loop {
            match next_command(&pending) {
                Command::Incomplete => break,
                Command::Status(n_) => {
                    pending.drain(..3);
                    shared.status_requests.fetch_add(1, Ordering::Relaxed);
                    let condition = *shared.condition.lock().unwrap();
                    let out_of_paper_now = condition == Condition::RunsOutWhilePrinting && got_data;
                    if let Some(reply) = reply(condition, out_of_paper_now, n_) {
                        let _ = io.write_all(&[reply]);
                        let _ = io.flush();
                    }
                }
                Command::Data { len, cut } => {
                    job.extend(pending.drain(..len));
                    got_data = true;
                    *shared.last_byte_at.lock().unwrap() = Some(Instant::now());
                    if cut {
                        let _ = jobs.send(std::mem::take(&mut job));
                    }
                }
            }
        }
    }
}

enum Command {
    Incomplete,
    Status(u8),
    /// `len` bytes of print data; `cut` when they end with a cut.
    Data {
        len: usize,
        cut: bool,
    },
}

fn next_command(b: &[u8]) -> Command {
    let need = |n: usize| b.len() >= n;
    match b {
        [] => Command::Incomplete,
        [0x10, 0x04, n, ..] => Command::Status(*n),
        [0x10] | [0x10, 0x04] => Command::Incomplete,
        // GS V m [n]: the cut ends a job.
        [0x1d, 0x56, m, ..] => {
            let len = if *m >= 65 { 4 } else { 3 };
            if need(len) {
                Command::Data { len, cut: true }
            } else {
                Command::Incomplete
            }
        }
        // GS v 0 m xL xH yL yH + image: skip the image, whatever bytes it holds.
        [0x1d, 0x76, 0x30, _, xl, xh, yl, yh, ..] => {
            let len = 8
                + (usize::from(*xl) | usize::from(*xh) << 8)
                    * (usize::from(*yl) | usize::from(*yh) << 8);
            if need(len) {
                Command::Data { len, cut: false }
            } else {
                Command::Incomplete
            }
        }
        // GS ( k pL pH + payload (QR data may hold any byte).
        [0x1d, 0x28, 0x6b, pl, ph, ..] => {
            let len = 5 + (usize::from(*pl) | usize::from(*ph) << 8);
            if need(len) {
                Command::Data { len, cut: false }
            } else {
                Command::Incomplete
            }
        }
        [0x1d] | [0x1d, 0x76 | 0x28 | 0x56, ..] => Command::Incomplete,
        _ => Command::Data { len: 1, cut: false },
    }
}

fn reply(condition: Condition, out_of_paper_now: bool, n: u8) -> Option<u8> {
    use Condition::*;
    let condition = if out_of_paper_now {
        PaperOut
    } else {
        condition
    };
    let (printer, offline, paper) = match condition {
        Silent => return None,
        Ready | RunsOutWhilePrinting => (bytes::ONLINE, bytes::NO_OFFLINE_CAUSE, bytes::PAPER_OK),
        PaperNearEnd => (
            bytes::ONLINE,
            bytes::NO_OFFLINE_CAUSE,
            bytes::PAPER_NEAR_END,
        ),
        PaperOut => (
            bytes::OFFLINE,
            bytes::STOPPED_AT_PAPER_END,
            bytes::PAPER_OUT,
        ),
        CoverOpen => (bytes::OFFLINE, bytes::COVER_OPEN, bytes::PAPER_OK),
    };
    match n {
        1 => Some(printer),
        2 => Some(offline),
        4 => Some(paper),
        _ => None,
    }
}

/// An HTTP proxy in front of the queue-server that holds back the answer to
/// the first ticket request for `hold`: the kiosk times out, retries, and
/// the server must not issue a second ticket.
pub struct SlowFirstIssue {
    pub addr: SocketAddr,
    /// Ticket requests that passed through.
    pub issue_requests: Arc<AtomicUsize>,
}

impl SlowFirstIssue {
    pub fn start(upstream: SocketAddr, hold: Duration) -> SlowFirstIssue {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let issue_requests = Arc::new(AtomicUsize::new(0));
        let count = issue_requests.clone();
        std::thread::spawn(move || {
            for client in listener.incoming().flatten() {
                let Ok(server) = std::net::TcpStream::connect(upstream) else {
                    continue;
                };
                let count = count.clone();
                let hold_next = Arc::new(AtomicBool::new(false));
                let (mut c_read, mut s_write) =
                    (client.try_clone().unwrap(), server.try_clone().unwrap());
                let flag = hold_next.clone();
                std::thread::spawn(move || {
                    let mut buf = [0u8; 8192];
                    while let Ok(n @ 1..) = c_read.read(&mut buf) {
                        if buf[..n].starts_with(b"POST /api/v1/tickets ")
                            && count.fetch_add(1, Ordering::SeqCst) == 0
                        {
                            flag.store(true, Ordering::SeqCst);
                        }
                        if s_write.write_all(&buf[..n]).is_err() {
                            break;
                        }
                    }
                    let _ = s_write.shutdown(std::net::Shutdown::Write);
                });
                let (mut s_read, mut c_write) = (server, client);
                std::thread::spawn(move || {
                    let mut buf = [0u8; 8192];
                    while let Ok(n @ 1..) = s_read.read(&mut buf) {
                        if hold_next.swap(false, Ordering::SeqCst) {
                            std::thread::sleep(hold);
                        }
                        if c_write.write_all(&buf[..n]).is_err() {
                            break;
                        }
                    }
                    let _ = c_write.shutdown(std::net::Shutdown::Write);
                });
            }
        });
        SlowFirstIssue {
            addr,
            issue_requests,
        }
    }
}

/// The demo hall's server and a kiosk in `ui`, printing to a simulated
/// printer on a serial pair; `adjust` may change the kiosk's configuration
/// (the server, token and printer are already set).
pub struct KioskRig {
    pub runtime: tokio::runtime::Runtime,
    pub server: hall_testkit::ServerProcess,
    pub sim: SimPrinter,
    pub kiosk: std::rc::Rc<kiosk::app::Kiosk>,
    /// The server address the kiosk was configured with.
    pub url: String,
    _pair: hall_testkit::serial::SerialPair,
}

impl KioskRig {
    pub fn start(
        ui: &kiosk::KioskWindow,
        adjust: impl FnOnce(&mut kiosk::config::KioskConfig),
    ) -> KioskRig {
        let (runtime, server) = hall_testkit::demo_hall_on_a_runtime();
        let url = server.base_url();
        Self::start_on(runtime, server, url, None, ui, adjust)
    }

    /// A hall of the test's own (`options`), the kiosk on it; `adjust`
    /// sets the kiosk's token among the rest.
    pub fn start_with(
        ui: &kiosk::KioskWindow,
        options: hall_testkit::ServerOptions,
        adjust: impl FnOnce(&mut kiosk::config::KioskConfig),
    ) -> KioskRig {
        let runtime = hall_testkit::two_thread_runtime();
        let server = runtime.block_on(hall_testkit::ServerProcess::start(
            hall_testkit::queue_server_bin(),
            options,
        ));
        let url = server.base_url();
        Self::start_on(runtime, server, url, None, ui, adjust)
    }

    /// The demo hall linked to a billing-sim (its account lookup), which
    /// the test may stop by dropping it.
    pub fn start_linked(
        ui: &kiosk::KioskWindow,
        adjust: impl FnOnce(&mut kiosk::config::KioskConfig),
    ) -> (KioskRig, hall_testkit::billing::BillingSim) {
        let runtime = hall_testkit::two_thread_runtime();
        let sim = runtime.block_on(hall_testkit::billing::BillingSim::start(
            &hall_testkit::workspace_bin("billing-sim"),
            hall_testkit::free_port(),
        ));
        let server = runtime.block_on(hall_testkit::ServerProcess::start(
            hall_testkit::queue_server_bin(),
            hall_testkit::ServerOptions {
                config: Some(hall_testkit::billing::linked_hall(sim.port)),
                ..Default::default()
            },
        ));
        let url = server.base_url();
        (Self::start_on(runtime, server, url, None, ui, adjust), sim)
    }

    /// The demo hall with TLS on its network: the kiosk reaches it over
    /// https, trusting the hall CA the server made.
    pub fn start_tls(
        ui: &kiosk::KioskWindow,
        adjust: impl FnOnce(&mut kiosk::config::KioskConfig),
    ) -> KioskRig {
        let runtime = hall_testkit::two_thread_runtime();
        let port = hall_testkit::free_port();
        let server = runtime.block_on(hall_testkit::ServerProcess::start(
            hall_testkit::queue_server_bin(),
            hall_testkit::ServerOptions {
                config: Some(format!(
                    "{}\n[tls]\nlisten = \"127.0.0.1:{port}\"\n",
                    include_str!("../../../queue-server/demo.toml")
                )),
                ..Default::default()
            },
        ));
        let ca = server.dir.path().join("tls/ca.crt");
        Self::start_on(
            runtime,
            server,
            format!("https://127.0.0.1:{port}"),
            Some(ca),
            ui,
            adjust,
        )
    }

    fn start_on(
        runtime: tokio::runtime::Runtime,
        server: hall_testkit::ServerProcess,
        url: String,
        ca: Option<std::path::PathBuf>,
        ui: &kiosk::KioskWindow,
        adjust: impl FnOnce(&mut kiosk::config::KioskConfig),
    ) -> KioskRig {
        let pair = hall_testkit::serial::SerialPair::new();
        let sim = SimPrinter::on_serial(&pair.device);
        let mut config = kiosk::config::KioskConfig::default_config();
        config.server.url = url.clone();
        config.server.ca = ca;
        config.server.token = hall_testkit::demo::KIOSK.into();
        config.printer.device = format!("serial:{}", pair.port.display());
        adjust(&mut config);
        let printer = kiosk::printer_from(&config).expect("a usable printer configuration");
        let kiosk = kiosk::app::Kiosk::start(ui, config, printer, runtime.handle().clone());
        KioskRig {
            runtime,
            server,
            sim,
            kiosk,
            url,
            _pair: pair,
        }
    }
}
