//! Debian packages under test: `scripts/package` on the binaries the test
//! suite built, and a real Debian Bookworm root made with debootstrap (from
//! Debian's mirror) to install them into with dpkg and apt, and to run what
//! they installed. chroot, not systemd-nspawn: a sandbox without its own
//! init cannot boot a container, and what is checked (the files, the user,
//! the maintainer scripts, upgrade, remove, purge) is dpkg's.
//!
//! Needs root (debootstrap, chroot); as another user every command goes
//! through `sudo -n`.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const WORKSPACE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/..");

pub fn is_root() -> bool {
    // SAFETY: geteuid only reads the process's credentials.
    unsafe { libc::geteuid() == 0 }
}

pub fn as_root(program: &str) -> Command {
    if is_root() {
        Command::new(program)
    } else {
        let mut c = Command::new("sudo");
        c.args(["-n", program]);
        c
    }
}

/// Runs a command to its end; panics with its output when it fails.
pub fn run(mut c: Command, what: &str) -> String {
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
pub struct DebianRoot {
    dir: tempfile::TempDir,
}

/// A fresh minimal Bookworm root as a tarball, made once for every test
/// that needs one (debootstrap takes half a minute; unpacking, one second)
/// and made again after a week, so the roots stay near Debian's.
fn pristine_root() -> PathBuf {
    const FRESH_FOR: Duration = Duration::from_secs(7 * 24 * 3600);
    let dir = Path::new(WORKSPACE).join("target/debian-root");
    std::fs::create_dir_all(&dir).unwrap();
    // Tests run as processes of their own: the lock makes one of them
    // bootstrap while the others wait for its tarball.
    let lock = std::fs::File::create(dir.join("lock")).unwrap();
    lock.lock().unwrap();
    let tar = dir.join("bookworm-minbase.tar");
    let fresh = std::fs::metadata(&tar)
        .and_then(|m| m.modified())
        .is_ok_and(|t| t.elapsed().is_ok_and(|age| age < FRESH_FOR));
    if !fresh {
        let made = tempfile::tempdir().unwrap();
        let mut c = as_root("debootstrap");
        c.args(["--variant=minbase", "bookworm"])
            .arg(made.path())
            .arg("http://deb.debian.org/debian");
        run(c, "debootstrap of Debian Bookworm (needs Debian's mirror)");
        let partial = dir.join("bookworm-minbase.tar.partial");
        let mut c = as_root("tar");
        c.arg("-C")
            .arg(made.path())
            .arg("-cf")
            .arg(&partial)
            .arg(".");
        run(c, "packing the Debian root");
        std::fs::rename(&partial, &tar).unwrap();
        let mut c = as_root("rm");
        c.arg("-rf").arg(made.path());
        run(c, "removing the packed root");
    }
    tar
}

impl DebianRoot {
    pub fn bootstrap() -> DebianRoot {
        let tar = pristine_root();
        let dir = tempfile::tempdir().unwrap();
        let mut c = as_root("tar");
        c.arg("-C").arg(dir.path()).arg("-xf").arg(&tar);
        run(c, "unpacking a Debian root");
        let root = DebianRoot { dir };
        // What is installed here never starts its services: a daemon started
        // in a chroot runs on the test machine (chrony would set its clock).
        root.write("/usr/sbin/policy-rc.d", "#!/bin/sh\nexit 101\n", "755");
        root
    }

    pub fn path(&self, inside: &str) -> PathBuf {
        self.dir.path().join(inside.trim_start_matches('/'))
    }

    pub fn chroot(&self, user: Option<&str>, args: &[&str]) -> Command {
        let mut c = as_root("chroot");
        if let Some(u) = user {
            c.arg(format!("--userspec={u}:{u}"));
        }
        c.arg(self.dir.path()).args(args);
        c
    }

    pub fn run(&self, args: &[&str]) -> String {
        run(self.chroot(None, args), &args.join(" "))
    }

    pub fn succeeds(&self, args: &[&str]) -> bool {
        self.chroot(None, args)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .unwrap()
            .success()
    }

    /// Writes a file inside (root's, with `mode`, its folders made).
    pub fn write(&self, inside: &str, text: &str, mode: &str) {
        let tmp = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(tmp.path(), text).unwrap();
        let mut c = as_root("install");
        c.args(["-D", "-m", mode])
            .arg(tmp.path())
            .arg(self.path(inside));
        run(c, &format!("writing {inside}"));
    }

    /// `mode owner group` of a path inside.
    pub fn stat(&self, inside: &str) -> String {
        self.run(&["stat", "-c", "%a %U %G", inside])
            .trim()
            .to_string()
    }

    /// Copies a package into the root's /tmp; its path inside.
    fn copy_in(&self, deb: &Path) -> String {
        let name = deb.file_name().unwrap().to_str().unwrap();
        let mut c = as_root("cp");
        c.arg(deb).arg(self.path("/tmp"));
        run(c, "copying the package in");
        format!("/tmp/{name}")
    }

    /// `dpkg -i`: what an installer does with a package whose
    /// dependencies are already there.
    pub fn dpkg_install(&self, deb: &Path) -> String {
        let inside = self.copy_in(deb);
        self.run(&["dpkg", "-i", &inside])
    }

    /// `apt install ./PACKAGE`: its dependencies come from Debian's mirror.
    pub fn apt_install(&self, deb: &Path) -> String {
        let inside = self.copy_in(deb);
        self.apt_get_install(&[&inside])
    }

    /// `apt-get install` of packages (names or `/path.deb` inside) from Debian's mirror.
    pub fn apt_get_install(&self, packages: &[&str]) -> String {
        self.run(&["apt-get", "update", "-qq"]);
        let mut args = vec![
            "env",
            "DEBIAN_FRONTEND=noninteractive",
            "apt-get",
            "install",
            "-y",
            "-qq",
            "--no-install-recommends",
        ];
        args.extend_from_slice(packages);
        self.run(&args)
    }

    /// The installed server, from its installed path, as its user.
    pub fn start_server(&self, port: u16) -> InstalledServer {
        let listen = format!("127.0.0.1:{port}");
        InstalledServer::start(
            self.chroot(
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
            ),
            port,
        )
    }
}

/// A server started in a root by `command`, answering `/healthz` on
/// 127.0.0.1:PORT. Stopped when dropped, so a failing test leaves no
/// server behind.
pub struct InstalledServer {
    child: Option<Child>,
    /// How `pkill -f` finds it when it runs under sudo (the end of its command line).
    found_by: String,
    /// Its stderr: a file rather than a pipe nobody drains, which would
    /// stop the server once full.
    log: tempfile::NamedTempFile,
    /// http://127.0.0.1:PORT
    pub base: String,
}

impl InstalledServer {
    /// `command` must end in `--listen 127.0.0.1:PORT`.
    pub fn start(command: Command, port: u16) -> InstalledServer {
        Self::start_found_by(command, port, &format!("--listen 127.0.0.1:{port}$"))
    }

    /// `command`'s line ends as the `found_by` pattern says.
    pub fn start_found_by(mut command: Command, port: u16, found_by: &str) -> InstalledServer {
        let log = tempfile::NamedTempFile::new().unwrap();
        let child = command
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::from(log.reopen().unwrap()))
            .spawn()
            .unwrap();
        InstalledServer {
            child: Some(child),
            found_by: found_by.to_string(),
            log,
            base: format!("http://127.0.0.1:{port}"),
        }
    }

    pub async fn wait_ready(&mut self) {
        let health = format!("{}/healthz", self.base);
        let deadline = Instant::now() + Duration::from_secs(20);
        while !reqwest::get(&health)
            .await
            .is_ok_and(|r| r.status().is_success())
        {
            let child = self.child.as_mut().expect("the server was started");
            if let Some(status) = child.try_wait().unwrap() {
                let log = std::fs::read_to_string(self.log.path()).unwrap_or_default();
                panic!("the installed server exited with {status}:\n{log}");
            }
            assert!(
                Instant::now() < deadline,
                "the installed server did not answer in 20 s"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Sends `signal` (chroot execs the server, so the child is the
    /// server; through sudo it is sudo, and the server is found by its
    /// address).
    fn signal(&self, child: &Child, signal: i32) {
        if is_root() {
            // SAFETY: kill only sends a signal to our own child.
            unsafe { libc::kill(child.id() as i32, signal) };
        } else {
            let mut c = as_root("pkill");
            c.arg(format!("-{signal}"))
                .args(["-f", "--", &self.found_by]);
            let _ = c.status();
        }
    }

    /// SIGTERM and wait, as systemd stops it.
    pub fn stop(mut self) {
        let mut child = self.child.take().expect("the server was started");
        self.signal(&child, libc::SIGTERM);
        let deadline = Instant::now() + Duration::from_secs(10);
        while child.try_wait().unwrap().is_none() {
            if Instant::now() > deadline {
                self.signal(&child, libc::SIGKILL);
                let _ = child.wait();
                panic!("the installed server did not stop within 10 s of SIGTERM");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for InstalledServer {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            self.signal(&child, libc::SIGKILL);
            let _ = child.wait();
        }
    }
}

/// Fails when lintian finds errors in `deb` (its warnings are printed).
pub fn assert_lintian_clean(deb: &Path) {
    let lint = Command::new("lintian")
        .args([
            "--fail-on",
            "error",
            "--suppress-tags",
            "initial-upload-closes-no-bugs",
        ])
        .arg(deb)
        .output()
        .expect("lintian (scripts/setup installs it)");
    println!("{}", String::from_utf8_lossy(&lint.stdout));
    assert!(
        lint.status.success(),
        "lintian reports errors:\n{}",
        String::from_utf8_lossy(&lint.stdout)
    );
}

/// The server's package of the test suite's own binary, at `revision`.
pub fn package(out: &Path, revision: u32) -> PathBuf {
    package_with(
        out,
        &[
            "--package",
            "queue-server",
            "--revision",
            &revision.to_string(),
        ],
    )
}

/// `scripts/package` on the binaries the test suite built (never a build of its own).
pub fn package_with(out: &Path, args: &[&str]) -> PathBuf {
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

/// A device's token from the installer's file the server package wrote.
pub fn device_token(root: &DebianRoot, device: &str) -> String {
    crate::token_in(
        &root.run(&["cat", "/etc/hall-queue/device-tokens.txt"]),
        device,
    )
}
