//! Helpers for the hall's integration tests: a real queue-server process on
//! 127.0.0.1 with its own SQLite file, that a test can stop, kill and
//! restart, and clients for it.

use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use hall_api::client::HallClient;

pub mod billing;
pub mod browser;
pub mod debian;
pub mod machine;
pub mod measure;
pub mod office;
#[cfg(feature = "slint")]
pub mod screen;
pub mod serial;

/// A tokio runtime with two workers, for tests and benches whose own
/// thread runs a Slint event loop and so cannot be async.
pub fn two_thread_runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a tokio runtime")
}

/// [`two_thread_runtime`] and the demo hall's server started on it.
pub fn demo_hall_on_a_runtime() -> (tokio::runtime::Runtime, ServerProcess) {
    let runtime = two_thread_runtime();
    let server = runtime.block_on(ServerProcess::start(
        queue_server_bin(),
        ServerOptions::default(),
    ));
    (runtime, server)
}

/// Waits until `check` answers true, asking again every 50 ms, or fails
/// the test after 10 s saying what never happened.
pub async fn eventually<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while !check().await {
        assert!(std::time::Instant::now() < deadline, "waited 10 s: {what}");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

/// Where a test saves a screenshot for people to look at: target/screenshots/NAME.png.
pub fn screenshot_path(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/screenshots");
    std::fs::create_dir_all(&dir).expect("the screenshots directory");
    dir.join(format!("{name}.png"))
}

/// A hall in Asia/Shanghai open 08:30–12:00 and 13:30–17:00 on weekdays
/// (Saturday mornings, closed on Sundays) with the holiday file at
/// `holidays`: one service `pay` (20 minutes a customer expected), one
/// open counter, `kiosk-token`, `manager-token`; it takes remote tickets.
pub fn lunch_break_hall(holidays: &Path) -> String {
    format!(
        r#"
[hall]
name = {{ zh = "厅", en = "Hall" }}
timezone = "Asia/Shanghai"
hours = "08:30-12:00, 13:30-17:00"
week = {{ sat = "09:00-12:00", sun = "" }}
holidays = ["{}"]

[[service]]
id = "pay"
prefix = "A"
name = {{ zh = "缴费", en = "Payment" }}
expected_service_min = 20

[[counter]]
number = 1
name = {{ zh = "1号窗口", en = "Counter 1" }}
services = ["pay"]
initial_state = "open"

[[device]]
name = "kiosk-1"
role = "kiosk"
token = "kiosk-token"

[[device]]
name = "manager"
role = "manager"
token = "manager-token"

[remote]
check_in_within_min = 60
"#,
        holidays.display()
    )
}

/// Demo-hall tokens (see queue-server/demo.toml).
pub mod demo {
    pub const KIOSK: &str = "demo-kiosk";
    pub const DISPLAY: &str = "demo-display";
    pub const BILLING: &str = "demo-billing";
    pub const MANAGER: &str = "demo-manager";
    pub fn counter(n: u32) -> String {
        format!("demo-counter-{n}")
    }
    pub fn rater(n: u32) -> String {
        format!("demo-rater-{n}")
    }
}

/// A workspace binary built in the same profile as the running program: next
/// to it for a binary, one level up for a test (which runs from deps/).
pub fn workspace_bin(name: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("the running program's path");
    let here = exe.parent().expect("the program's directory");
    [Some(here), here.parent()]
        .into_iter()
        .flatten()
        .map(|dir| dir.join(name))
        .find(|bin| bin.exists())
        .unwrap_or_else(|| {
            panic!(
                "{name} is missing next to {}: build it first (cargo build --workspace --bins)",
                exe.display()
            )
        })
}

/// The queue-server binary, for crates whose tests cannot name it with
/// `CARGO_BIN_EXE_queue-server`.
pub fn queue_server_bin() -> PathBuf {
    workspace_bin("queue-server")
}

/// libfaketime, from Debian's libfaketime package.
pub fn libfaketime() -> PathBuf {
    let candidates = std::fs::read_dir("/usr/lib")
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path().join("faketime/libfaketime.so.1"));
    candidates
        .into_iter()
        .find(|p| p.exists())
        .expect("libfaketime is missing: apt-get install faketime (scripts/test installs it)")
}

/// A free port on 127.0.0.1 for a server the test starts next.
///
/// Taken below Linux's ephemeral range (32768–60999): a port the OS picks
/// there can be handed to some client's outgoing connection before the
/// server binds it. Each test process starts at its own offset, and a port
/// is returned only once it binds on every address.
pub fn free_port() -> u16 {
    use std::sync::atomic::{AtomicU32, Ordering};
    const FIRST: u32 = 20_000;
    const COUNT: u32 = 12_000;
    static NEXT: AtomicU32 = AtomicU32::new(u32::MAX);
    let _ = NEXT.compare_exchange(
        u32::MAX,
        std::process::id().wrapping_mul(7_919) % COUNT,
        Ordering::Relaxed,
        Ordering::Relaxed,
    );
    for _ in 0..COUNT {
        let port = (FIRST + NEXT.fetch_add(1, Ordering::Relaxed) % COUNT) as u16;
        if TcpListener::bind(("0.0.0.0", port)).is_ok()
            && TcpListener::bind(("127.0.0.1", port)).is_ok()
        {
            return port;
        }
    }
    panic!(
        "no free port on 127.0.0.1 between {FIRST} and {}",
        FIRST + COUNT
    )
}

/// How to start the server.
#[derive(Debug, Clone, Default)]
pub struct ServerOptions {
    /// TOML configuration; `None` runs the embedded demo hall.
    pub config: Option<String>,
    /// Run with libfaketime's clock starting at this time (e.g. "@1970-01-01 00:00:00", UTC).
    pub faketime: Option<String>,
    /// The server's limit on open files (soft and hard), as a small box has.
    pub open_files: Option<u64>,
    /// The largest file the server may write, in bytes: a disk that fills up.
    pub file_size: Option<u64>,
}

pub struct ServerProcess {
    pub bin: PathBuf,
    pub addr: SocketAddr,
    pub dir: tempfile::TempDir,
    options: ServerOptions,
    child: Option<Child>,
    starts: u32,
}

impl ServerProcess {
    /// Starts the server in a new temporary directory and waits until it answers.
    pub async fn start(bin: impl Into<PathBuf>, options: ServerOptions) -> ServerProcess {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let addr = SocketAddr::from(([127, 0, 0, 1], free_port()));
        let mut server = ServerProcess {
            bin: bin.into(),
            addr,
            dir,
            options,
            child: None,
            starts: 0,
        };
        server.launch().await;
        server
    }

    pub fn db_path(&self) -> PathBuf {
        self.dir.path().join("hall.db")
    }

    /// The running server's process id (0 when stopped).
    pub fn pid(&self) -> u32 {
        self.child.as_ref().map_or(0, |c| c.id())
    }

    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn client(&self, token: &str) -> HallClient {
        HallClient::new(self.base_url(), token)
    }

    /// The server's log so far (stderr of every start).
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("server.log")).unwrap_or_default()
    }

    /// Sets the faketime specification for the next (re)start.
    pub fn set_faketime(&mut self, spec: Option<&str>) {
        self.options.faketime = spec.map(str::to_string);
    }

    fn command(&self) -> Command {
        let mut cmd = Command::new(&self.bin);
        if let Some(spec) = &self.options.faketime {
            // Preloaded straight into the server (not through the `faketime`
            // wrapper), so that killing the child kills the server itself.
            // Tokio's timers use the monotonic clock: only the wall clock jumps.
            cmd.env("LD_PRELOAD", libfaketime())
                .env("FAKETIME", spec)
                .env("FAKETIME_DONT_FAKE_MONOTONIC", "1")
                .env("FAKETIME_NO_CACHE", "1")
                .env("TZ", "UTC");
        }
        if let Some(text) = &self.options.config {
            let path = self.dir.path().join("hall.toml");
            std::fs::write(&path, text).expect("writing the test configuration");
            cmd.arg("--config").arg(path);
        }
        cmd.arg("--db")
            .arg(self.db_path())
            .arg("--listen")
            .arg(self.addr.to_string());
        let (open_files, file_size) = (self.options.open_files, self.options.file_size);
        if open_files.is_some() || file_size.is_some() {
            use std::os::unix::process::CommandExt;
            // SAFETY: between fork and exec only async-signal-safe calls
            // are made (setrlimit, signal).
            unsafe {
                cmd.pre_exec(move || {
                    let set = |resource, n: u64| {
                        let limit = libc::rlimit {
                            rlim_cur: n,
                            rlim_max: n,
                        };
                        if libc::setrlimit(resource, &limit) != 0 {
                            return Err(std::io::Error::last_os_error());
                        }
                        Ok(())
                    };
                    if let Some(n) = open_files {
                        set(libc::RLIMIT_NOFILE, n)?;
                    }
                    if let Some(n) = file_size {
                        set(libc::RLIMIT_FSIZE, n)?;
                        // A write past the limit fails (EFBIG) instead of
                        // killing the process, as a full disk's would.
                        libc::signal(libc::SIGXFSZ, libc::SIG_IGN);
                    }
                    Ok(())
                });
            }
        }
        cmd
    }

    async fn launch(&mut self) {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.dir.path().join("server.log"))
            .expect("the server log file");
        let child = self
            .command()
            .env("RUST_LOG", "info")
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("log handle"))
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", self.bin.display()));
        self.child = Some(child);
        self.starts += 1;
        self.wait_ready().await;
    }

    async fn wait_ready(&mut self) {
        let client = self.client("");
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if client.health().await.is_ok() {
                // Whatever answered must be the process just started, not
                // an earlier one still holding the port.
                tokio::time::sleep(Duration::from_millis(50)).await;
                if let Some(status) = self
                    .child
                    .as_mut()
                    .and_then(|c| c.try_wait().ok().flatten())
                {
                    panic!("queue-server exited with {status}:\n{}", self.log());
                }
                return;
            }
            if let Some(status) = self
                .child
                .as_mut()
                .and_then(|c| c.try_wait().ok().flatten())
            {
                panic!(
                    "queue-server exited with {status} before it was ready:\n{}",
                    self.log()
                );
            }
            assert!(
                Instant::now() < deadline,
                "queue-server did not answer within 20 s:\n{}",
                self.log()
            );
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }

    /// SIGKILL: no chance to flush or close anything, like a power cut for
    /// the process.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// SIGTERM and wait: the orderly stop systemd does.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = Command::new("kill")
                .arg("-TERM")
                .arg(child.id().to_string())
                .status();
            let deadline = Instant::now() + Duration::from_secs(10);
            while child.try_wait().ok().flatten().is_none() {
                if Instant::now() > deadline {
                    let _ = child.kill();
                    panic!(
                        "queue-server did not stop within 10 s of SIGTERM:\n{}",
                        self.log()
                    );
                }
                std::thread::sleep(Duration::from_millis(20));
            }
        }
    }

    /// Starts again on the same address and database.
    pub async fn restart(&mut self) {
        self.stop();
        self.launch().await;
    }

    /// Stops, then starts again with libfaketime's clock at `spec`.
    pub async fn restart_with_faketime(&mut self, spec: &str) {
        self.stop();
        self.set_faketime(Some(spec));
        self.launch().await;
    }

    /// Starts again after `kill`, without stopping first.
    pub async fn start_again(&mut self) {
        assert!(self.child.is_none(), "the server is still running");
        self.launch().await;
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        self.kill();
    }
}

/// A device's token from the file `queue-server init-config` writes
/// (`name = "token"` lines).
pub fn token_in(tokens_file: &str, device: &str) -> String {
    tokens_file
        .lines()
        .find_map(|l| l.strip_prefix(&format!("{device} = \"")))
        .and_then(|t| t.strip_suffix('"'))
        .unwrap_or_else(|| panic!("no token for {device} in {tokens_file}"))
        .to_string()
}

/// Runs the server binary with `args` to completion: (exit success, stdout, stderr).
pub fn run_to_end(bin: &Path, args: &[&str]) -> (bool, String, String) {
    let out = Command::new(bin)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("running the binary");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}
