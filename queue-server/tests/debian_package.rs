//! The Debian package, installed as an installer would: into a real Debian
//! Bookworm root made here with debootstrap (from Debian's mirror), with
//! dpkg, then the installed server run from its installed path as its
//! system user. chroot, not systemd-nspawn: a sandbox without its own
//! init cannot boot a container, and what is checked here (the files,
//! the user, the maintainer scripts, upgrade, remove, purge) is dpkg's.
//!
//! Needs root (debootstrap, chroot); as another user every command goes
//! through `sudo -n`.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use hall_api::IssueTicket;
use hall_api::client::HallClient;

// The package is made from target/debug/queue-server, which cargo builds
// for this test (the package's own binary target).
const WORKSPACE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/..");

fn is_root() -> bool {
    // SAFETY: geteuid only reads the process's credentials.
    unsafe { libc::geteuid() == 0 }
}

fn as_root(program: &str) -> Command {
    if is_root() {
        Command::new(program)
    } else {
        let mut c = Command::new("sudo");
        c.args(["-n", program]);
        c
    }
}

/// Runs a command to its end; panics with its output when it fails.
fn run(mut c: Command, what: &str) -> String {
    let out = c
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("{what}: {e}"));
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{what} failed ({}):\n{stdout}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

/// A Debian root and what is done inside it.
struct DebianRoot {
    dir: tempfile::TempDir,
}

impl DebianRoot {
    fn bootstrap() -> DebianRoot {
        let dir = tempfile::tempdir().unwrap();
        let mut c = as_root("debootstrap");
        c.args(["--variant=minbase", "bookworm"])
            .arg(dir.path())
            .arg("http://deb.debian.org/debian");
        run(c, "debootstrap of Debian Bookworm (needs Debian's mirror)");
        DebianRoot { dir }
    }

    fn path(&self, inside: &str) -> PathBuf {
        self.dir.path().join(inside.trim_start_matches('/'))
    }

    fn chroot(&self, user: Option<&str>, args: &[&str]) -> Command {
        let mut c = as_root("chroot");
        if let Some(u) = user {
            c.arg(format!("--userspec={u}:{u}"));
        }
        c.arg(self.dir.path()).args(args);
        c
    }

    fn run(&self, args: &[&str]) -> String {
        run(self.chroot(None, args), &args.join(" "))
    }

    fn succeeds(&self, args: &[&str]) -> bool {
        self.chroot(None, args)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .unwrap()
            .success()
    }

    /// `mode owner group` of a path inside.
    fn stat(&self, inside: &str) -> String {
        self.run(&["stat", "-c", "%a %U %G", inside])
            .trim()
            .to_string()
    }

    fn dpkg_install(&self, deb: &Path) -> String {
        let name = deb.file_name().unwrap().to_str().unwrap();
        run(
            {
                let mut c = as_root("cp");
                c.arg(deb).arg(self.path("/tmp"));
                c
            },
            "copying the package in",
        );
        self.run(&["dpkg", "-i", &format!("/tmp/{name}")])
    }

    /// The installed server, from its installed path, as its user.
    fn start_server(&self, port: u16) -> InstalledServer {
        let listen = format!("127.0.0.1:{port}");
        let child = self
            .chroot(
                Some("hall-queue"),
                &[
                    "/usr/bin/queue-server",
                    "--config",
                    "/etc/hall-queue/hall.toml",
                    "--db",
                    "/var/lib/queue-server/hall.db",
                    "--listen",
                    &listen,
                ],
            )
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        InstalledServer {
            child,
            listen,
            base: format!("http://127.0.0.1:{port}"),
        }
    }
}

struct InstalledServer {
    child: Child,
    listen: String,
    base: String,
}

impl InstalledServer {
    async fn wait_ready(&mut self) {
        let c = HallClient::new(self.base.clone(), "");
        let deadline = Instant::now() + Duration::from_secs(20);
        while c.health().await.is_err() {
            if let Some(status) = self.child.try_wait().unwrap() {
                let mut log = String::new();
                use std::io::Read;
                self.child
                    .stderr
                    .take()
                    .unwrap()
                    .read_to_string(&mut log)
                    .unwrap();
                panic!("the installed server exited with {status}:\n{log}");
            }
            assert!(
                Instant::now() < deadline,
                "the installed server did not answer in 20 s"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// SIGTERM, as systemd stops it (chroot execs the server, so the child
    /// is the server; through sudo it is sudo, and the server is found by
    /// its address).
    fn stop(mut self) {
        if is_root() {
            // SAFETY: kill only sends a signal to our own child.
            unsafe { libc::kill(self.child.id() as i32, libc::SIGTERM) };
        } else {
            let mut c = as_root("pkill");
            c.args(["-TERM", "-f", "--", &format!("--listen {}$", self.listen)]);
            let _ = c.status();
        }
        let deadline = Instant::now() + Duration::from_secs(10);
        while self.child.try_wait().unwrap().is_none() {
            assert!(
                Instant::now() < deadline,
                "the installed server did not stop"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The package of the test suite's own binary, at `revision`.
fn package(out: &Path, revision: u32) -> PathBuf {
    package_with(out, &["--revision", &revision.to_string()])
}

/// `scripts/package` on the binaries the test suite built (never a build of its own).
fn package_with(out: &Path, args: &[&str]) -> PathBuf {
    let mut c = Command::new(format!("{WORKSPACE}/scripts/package"));
    c.args(["--profile", "dev", "--no-build"])
        .args(args)
        .arg("--out")
        .arg(out);
    let printed = run(c, "scripts/package");
    let deb = PathBuf::from(printed.lines().last().unwrap_or_default().trim());
    assert!(deb.exists(), "scripts/package printed {printed}");
    deb
}

fn kiosk_token(root: &DebianRoot) -> String {
    let clear = root.run(&["cat", "/etc/hall-queue/device-tokens.txt"]);
    clear
        .lines()
        .find_map(|l| l.strip_prefix("kiosk-1 = \""))
        .and_then(|t| t.strip_suffix('"'))
        .unwrap_or_else(|| panic!("no kiosk token in {clear}"))
        .to_string()
}

#[tokio::test]
async fn the_server_package_installs_upgrades_keeps_the_day_and_purges() {
    let out = tempfile::tempdir().unwrap();
    let first = package(out.path(), 1);
    let second = package(out.path(), 2);
    let lint = Command::new("lintian")
        .args([
            "--fail-on",
            "error",
            "--suppress-tags",
            "initial-upload-closes-no-bugs",
        ])
        .arg(&first)
        .output()
        .unwrap();
    assert!(
        lint.status.success(),
        "lintian reports errors:\n{}",
        String::from_utf8_lossy(&lint.stdout)
    );

    let root = DebianRoot::bootstrap();
    let said = root.dpkg_install(&first);
    assert!(said.contains("/etc/hall-queue/device-tokens.txt"), "{said}");

    // The user, the files and their permissions.
    let user = root.run(&["getent", "passwd", "hall-queue"]);
    assert!(
        user.contains(":/var/lib/queue-server:/usr/sbin/nologin"),
        "{user}"
    );
    assert_eq!(root.stat("/usr/bin/queue-server"), "755 root root");
    assert_eq!(root.stat("/etc/hall-queue"), "750 root hall-queue");
    assert_eq!(
        root.stat("/etc/hall-queue/hall.toml"),
        "640 root hall-queue"
    );
    assert_eq!(
        root.stat("/etc/hall-queue/device-tokens.txt"),
        "600 root root"
    );
    assert_eq!(
        root.stat("/var/lib/queue-server"),
        "750 hall-queue hall-queue"
    );
    for unit in [
        "queue-server.service",
        "queue-server-backup.service",
        "queue-server-backup.timer",
    ] {
        assert!(
            root.path(&format!("/usr/lib/systemd/system/{unit}"))
                .exists(),
            "{unit}"
        );
    }
    // Enabled, so they start at boot.
    assert!(root.succeeds(&[
        "test",
        "-L",
        "/etc/systemd/system/multi-user.target.wants/queue-server.service"
    ]));
    assert!(root.succeeds(&[
        "test",
        "-L",
        "/etc/systemd/system/timers.target.wants/queue-server-backup.timer"
    ]));
    let conffiles = root.run(&["dpkg-query", "-W", "-f=${Conffiles}", "hall-queue-server"]);
    assert!(
        conffiles.contains("/etc/systemd/journald@hall-queue.conf"),
        "{conffiles}"
    );
    let config = std::fs::read_to_string(root.path("/etc/hall-queue/hall.toml"));
    // Read as root when the test is not.
    let config = config.unwrap_or_else(|_| root.run(&["cat", "/etc/hall-queue/hall.toml"]));
    assert!(!config.contains("demo-") && config.contains("token_sha256"));

    // The generated configuration passes the check the unit runs, as the service user.
    let checked = run(
        root.chroot(
            Some("hall-queue"),
            &[
                "/usr/bin/queue-server",
                "--config",
                "/etc/hall-queue/hall.toml",
                "check-config",
            ],
        ),
        "check-config of the generated configuration",
    );
    assert!(checked.contains("configuration OK"), "{checked}");

    // The installed server answers, with the kiosk token from the installer's file.
    let token = kiosk_token(&root);
    let port = free_port();
    let mut server = root.start_server(port);
    server.wait_ready().await;
    let kiosk = HallClient::new(server.base.clone(), token.clone());
    for i in 0..3 {
        let (t, _) = kiosk
            .issue_ticket(&IssueTicket::new("pay", format!("p{i}")))
            .await
            .unwrap();
        assert_eq!(t.number, format!("A00{}", i + 1));
    }
    server.stop();

    // The installer edits the hall; the upgrade keeps that edit, the
    // tokens, the database and the day.
    root.run(&[
        "sh",
        "-c",
        "echo '# edited at the hall' >> /etc/hall-queue/hall.toml",
    ]);
    let said = root.dpkg_install(&second);
    assert!(!said.contains("a first hall configuration"), "{said}");
    assert!(
        root.run(&["cat", "/etc/hall-queue/hall.toml"])
            .ends_with("# edited at the hall\n")
    );
    assert_eq!(kiosk_token(&root), token);
    let version = root.run(&["dpkg-query", "-W", "-f=${Version}", "hall-queue-server"]);
    assert_eq!(version, "0.1.0-2");
    let mut server = root.start_server(port);
    server.wait_ready().await;
    let hall = kiosk.hall().await.unwrap();
    let pay = hall.services.iter().find(|s| s.id == "pay").unwrap();
    assert_eq!(pay.waiting, 3, "the morning's tickets are still waiting");
    let (next, _) = kiosk
        .issue_ticket(&IssueTicket::new("pay", "after"))
        .await
        .unwrap();
    assert_eq!(next.number, "A004", "numbering goes on after the upgrade");
    server.stop();

    // Remove keeps the data and the configuration; purge removes them.
    root.run(&["dpkg", "-r", "hall-queue-server"]);
    assert!(!root.path("/usr/bin/queue-server").exists());
    assert!(root.succeeds(&["test", "-s", "/var/lib/queue-server/hall.db"]));
    assert!(root.succeeds(&["test", "-f", "/etc/hall-queue/hall.toml"]));
    root.run(&["dpkg", "-P", "hall-queue-server"]);
    for gone in [
        "/var/lib/queue-server",
        "/etc/hall-queue",
        "/etc/systemd/journald@hall-queue.conf",
    ] {
        assert!(
            !root.succeeds(&["test", "-e", gone]),
            "{gone} is left after purge"
        );
    }
}

/// The Pi's package: its binary is an arm64 one, and it runs (under
/// qemu-aarch64 here): its version, and the checks of the demo hall and of
/// a configuration it generates itself.
#[test]
fn the_arm64_package_runs_under_qemu() {
    const TARGET: &str = "aarch64-unknown-linux-gnu";
    let out = tempfile::tempdir().unwrap();
    let deb = package_with(out.path(), &["--target", TARGET]);
    assert!(
        deb.to_str().unwrap().ends_with("_arm64.deb"),
        "{}",
        deb.display()
    );
    let field = |name: &str| {
        let mut c = Command::new("dpkg-deb");
        c.args(["-f"]).arg(&deb).arg(name);
        run(c, "dpkg-deb -f").trim().to_string()
    };
    assert_eq!(field("Architecture"), "arm64");
    let files = out.path().join("files");
    let mut x = Command::new("dpkg-deb");
    x.arg("-x").arg(&deb).arg(&files);
    run(x, "dpkg-deb -x");
    let bin = files.join("usr/bin/queue-server");
    let file_type = {
        let mut c = Command::new("file");
        c.arg("-b").arg(&bin);
        run(c, "file")
    };
    assert!(file_type.contains("ARM aarch64"), "{file_type}");
    let qemu = |args: &[&str]| {
        let mut c = Command::new("qemu-aarch64-static");
        c.args(["-L", "/usr/aarch64-linux-gnu"])
            .arg(&bin)
            .args(args);
        run(
            c,
            &format!("queue-server {} under qemu-aarch64", args.join(" ")),
        )
    };
    let version = qemu(&["--version"]);
    assert_eq!(
        version.trim(),
        format!("queue-server {}", env!("CARGO_PKG_VERSION"))
    );
    assert!(qemu(&["check-config"]).contains("configuration OK: 6 services"));
    let cfg = out.path().join("hall.toml");
    let tokens = out.path().join("tokens");
    qemu(&[
        "init-config",
        "--out",
        cfg.to_str().unwrap(),
        "--tokens",
        tokens.to_str().unwrap(),
    ]);
    assert!(
        qemu(&["--config", cfg.to_str().unwrap(), "check-config"]).contains("configuration OK")
    );
}
