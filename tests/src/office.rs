//! Head office's servers for the tests, from Debian's packages, each on
//! loopback in a temporary directory and stopped with the test:
//! `nats-server` with JetStream and TLS (a CA made here), each hall an
//! nkey user that may publish only under its own subjects; PostgreSQL
//! (`initdb` into the directory, run as an unprivileged user); and the
//! `head-office` binary between them.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose, SanType,
};

use crate::free_port;

/// A CA and a server certificate for 127.0.0.1 and localhost, as PEM files.
pub struct TestCa {
    pub ca: PathBuf,
    pub cert: PathBuf,
    pub key: PathBuf,
}

impl TestCa {
    pub fn make(dir: &Path) -> TestCa {
        let ca_key = KeyPair::generate().expect("a CA key");
        let mut params = CertificateParams::default();
        params
            .distinguished_name
            .push(DnType::CommonName, "Test company CA");
        params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let ca_cert = params.self_signed(&ca_key).expect("the CA certificate");
        let issuer = Issuer::from_ca_cert_pem(&ca_cert.pem(), ca_key).expect("the CA as issuer");
        let mut server = CertificateParams::default();
        server
            .distinguished_name
            .push(DnType::CommonName, "head office NATS");
        server.subject_alt_names = vec![
            SanType::IpAddress([127, 0, 0, 1].into()),
            SanType::DnsName("localhost".try_into().expect("a DNS name")),
        ];
        server.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        server.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        let key = KeyPair::generate().expect("a server key");
        let cert = server
            .signed_by(&key, &issuer)
            .expect("the server certificate");
        let ca = TestCa {
            ca: dir.join("ca.pem"),
            cert: dir.join("server.pem"),
            key: dir.join("server-key.pem"),
        };
        std::fs::write(&ca.ca, ca_cert.pem()).expect("writing the CA");
        std::fs::write(&ca.cert, cert.pem()).expect("writing the certificate");
        std::fs::write(&ca.key, key.serialize_pem()).expect("writing the key");
        ca
    }
}

/// An nkey user: the seed goes to its owner (a file readable by it
/// only), the public key into the NATS server's configuration.
pub struct NatsUser {
    pub public_key: String,
    pub seed_file: PathBuf,
    /// `None`: head office, which may do anything.
    pub hall: Option<String>,
}

impl NatsUser {
    pub fn new(dir: &Path, name: &str, hall: Option<&str>) -> NatsUser {
        let pair = nkeys::KeyPair::new_user();
        let seed_file = dir.join(format!("{name}.nk"));
        write_private(&seed_file, &pair.seed().expect("a user seed"));
        NatsUser {
            public_key: pair.public_key(),
            seed_file,
            hall: hall.map(str::to_string),
        }
    }

    pub fn seed(&self) -> String {
        std::fs::read_to_string(&self.seed_file).expect("the seed file")
    }

    fn config(&self) -> String {
        match &self.hall {
            None => format!("{{ nkey: {} }}", self.public_key),
            Some(h) => head_office::keys::user_entry(h, &self.public_key),
        }
    }
}

/// Writes a file only its owner may read (a key, a seed).
pub fn write_private(path: &Path, text: &str) {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .truncate(true)
        .write(true)
        .mode(0o600)
        .open(path)
        .unwrap_or_else(|e| panic!("cannot write {}: {e}", path.display()));
    f.write_all(text.as_bytes())
        .expect("writing a private file");
}

/// nats-server with JetStream, TLS required, nkey users only.
pub struct NatsServer {
    pub addr: SocketAddr,
    pub dir: PathBuf,
    child: Option<Child>,
}

impl NatsServer {
    pub fn start(dir: &Path, ca: &TestCa, users: &[&NatsUser]) -> NatsServer {
        let dir = dir.join("nats");
        std::fs::create_dir_all(&dir).expect("the NATS directory");
        let addr = SocketAddr::from(([127, 0, 0, 1], free_port()));
        let users: Vec<String> = users.iter().map(|u| u.config()).collect();
        let config = format!(
            "listen: \"{addr}\"\n\
             jetstream {{ store_dir: \"{store}\" }}\n\
             tls {{ cert_file: \"{cert}\", key_file: \"{key}\", timeout: 2 }}\n\
             authorization {{ users: [\n  {users}\n] }}\n",
            store = dir.join("js").display(),
            cert = ca.cert.display(),
            key = ca.key.display(),
            users = users.join(",\n  "),
        );
        std::fs::write(dir.join("nats.conf"), config).expect("writing nats.conf");
        let mut server = NatsServer {
            addr,
            dir,
            child: None,
        };
        server.launch();
        server
    }

    pub fn url(&self) -> String {
        format!("tls://{}", self.addr)
    }

    fn launch(&mut self) {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.dir.join("nats.log"))
            .expect("the NATS log");
        let child = Command::new("nats-server")
            .arg("-c")
            .arg(self.dir.join("nats.conf"))
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("log handle"))
            .stderr(log)
            .spawn()
            .expect("nats-server (Debian's nats-server package; scripts/setup installs it)");
        self.child = Some(child);
        wait_for_port(self.addr, "nats-server", || self.log());
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("nats.log")).unwrap_or_default()
    }

    /// SIGTERM and wait: JetStream's store stays on disk.
    pub fn stop(&mut self) {
        if let Some(child) = self.child.take() {
            stop_child(child, "nats-server");
        }
    }

    /// Starts again on the same port, configuration and store.
    pub fn start_again(&mut self) {
        assert!(self.child.is_none(), "nats-server is still running");
        self.launch();
    }
}

impl Drop for NatsServer {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// An HTTP proxy (Debian's tinyproxy) on loopback, as a branch network's
/// way out: it opens CONNECT tunnels and logs each one.
pub struct HttpProxy {
    pub addr: SocketAddr,
    dir: PathBuf,
    child: Option<Child>,
}

impl HttpProxy {
    pub fn start(dir: &Path) -> HttpProxy {
        Self::start_asking(dir, None)
    }

    /// A proxy that lets through only requests with these Basic credentials.
    pub fn start_asking(dir: &Path, credentials: Option<(&str, &str)>) -> HttpProxy {
        let dir = dir.join("proxy");
        std::fs::create_dir_all(&dir).expect("the proxy's directory");
        let addr = SocketAddr::from(([127, 0, 0, 1], free_port()));
        let log = dir.join("tinyproxy.log");
        std::fs::write(&log, "").expect("the proxy's log");
        // tinyproxy drops root for nobody, who must still write its log.
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&log, std::fs::Permissions::from_mode(0o666)).unwrap();
        // No ConnectPort line: CONNECT to any port (NATS is not 443).
        let mut config = format!(
            "User nobody\nGroup nogroup\nPort {port}\nListen 127.0.0.1\nAllow 127.0.0.1\n\
             Timeout 600\nMaxClients 20\nLogFile \"{log}\"\nLogLevel Connect\n",
            port = addr.port(),
            log = log.display()
        );
        if let Some((user, password)) = credentials {
            config.push_str(&format!("BasicAuth {user} {password}\n"));
        }
        std::fs::write(dir.join("tinyproxy.conf"), config).expect("tinyproxy.conf");
        let mut proxy = HttpProxy {
            addr,
            dir,
            child: None,
        };
        proxy.launch();
        proxy
    }

    fn launch(&mut self) {
        let child = Command::new("tinyproxy")
            .arg("-d")
            .arg("-c")
            .arg(self.dir.join("tinyproxy.conf"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("tinyproxy (Debian's tinyproxy package; scripts/setup installs it)");
        self.child = Some(child);
        wait_for_port(self.addr, "tinyproxy", || self.log());
    }

    /// `http://127.0.0.1:PORT`, as a hall's `[head_office] proxy`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("tinyproxy.log")).unwrap_or_default()
    }

    /// Stops it: every tunnel through it is cut.
    pub fn stop(&mut self) {
        if let Some(child) = self.child.take() {
            stop_child(child, "tinyproxy");
        }
    }

    pub fn start_again(&mut self) {
        assert!(self.child.is_none(), "tinyproxy is still running");
        self.launch();
    }
}

impl Drop for HttpProxy {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

fn stop_child(mut child: Child, what: &str) {
    // SAFETY: kill(2) on our own child's pid.
    unsafe {
        libc::kill(child.id() as i32, libc::SIGTERM);
    }
    let deadline = Instant::now() + Duration::from_secs(15);
    while child.try_wait().ok().flatten().is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("{what} did not stop within 15 s of SIGTERM");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn wait_for_port(addr: SocketAddr, what: &str, log: impl Fn() -> String) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while std::net::TcpStream::connect(addr).is_err() {
        assert!(
            Instant::now() < deadline,
            "{what} did not listen on {addr} within 20 s:\n{}",
            log()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The directory of Debian's PostgreSQL programs (the newest installed).
fn postgres_bin() -> PathBuf {
    let mut found: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path().join("bin"))
        .filter(|p| p.join("initdb").exists())
        .collect();
    found.sort_by_key(|p| {
        p.parent()
            .and_then(|v| v.file_name())
            .and_then(|v| v.to_str())
            .and_then(|v| v.parse::<u32>().ok())
            .unwrap_or(0)
    });
    found
        .pop()
        .expect("PostgreSQL's programs in /usr/lib/postgresql/*/bin (Debian's postgresql package; scripts/setup installs it)")
}

/// A PostgreSQL cluster of its own, on a Unix socket in its directory
/// and 127.0.0.1, run as `nobody` when the tests run as root (PostgreSQL
/// refuses to run as root).
pub struct Postgres {
    pub dir: PathBuf,
    pub port: u16,
    bin: PathBuf,
    user: Option<&'static str>,
    running: bool,
    /// fsync on, as in production (benchmarks); off for the tests.
    durable: bool,
}

impl Postgres {
    /// For the tests: fsync off, their data is thrown away.
    pub fn start(dir: &Path) -> Postgres {
        Self::start_with(dir, false)
    }

    /// `durable`: fsync and synchronous commit on, as head office runs.
    pub fn start_with(dir: &Path, durable: bool) -> Postgres {
        let dir = dir.join("pg");
        std::fs::create_dir_all(dir.join("data")).expect("the PostgreSQL directory");
        // SAFETY: geteuid has no preconditions.
        let user = (unsafe { libc::geteuid() } == 0).then_some("nobody");
        if let Some(u) = user {
            let ok = Command::new("chown")
                .args(["-R", u])
                .arg(&dir)
                .status()
                .is_ok_and(|s| s.success());
            assert!(ok, "cannot hand {} to {u}", dir.display());
            // The way down to the directory must be open to that user.
            let mut p = dir.parent();
            while let Some(d) = p {
                if d.starts_with(std::env::temp_dir()) && d != std::env::temp_dir() {
                    let _ = Command::new("chmod").arg("o+x").arg(d).status();
                }
                p = d.parent();
            }
        }
        let mut pg = Postgres {
            port: free_port(),
            bin: postgres_bin(),
            dir,
            user,
            running: false,
            durable,
        };
        pg.run(
            "initdb",
            &[
                "-D",
                &pg.data(),
                "-U",
                "postgres",
                "--auth=trust",
                "--encoding=UTF8",
                "--locale=C",
                "--no-sync",
            ],
        );
        pg.start_again();
        pg.psql("CREATE DATABASE head_office");
        pg
    }

    fn data(&self) -> String {
        self.dir.join("data").display().to_string()
    }

    fn run(&self, program: &str, args: &[&str]) -> String {
        let exe = self.bin.join(program);
        let mut cmd = match self.user {
            Some(u) => {
                let mut c = Command::new("runuser");
                c.args(["-u", u, "--"]).arg(&exe);
                c
            }
            None => Command::new(&exe),
        };
        let out = cmd
            .args(args)
            .current_dir(&self.dir)
            .output()
            .unwrap_or_else(|e| panic!("cannot run {}: {e}", exe.display()));
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(out.status.success(), "{program} {args:?} failed:\n{text}");
        text
    }

    /// Starts the cluster (again).
    pub fn start_again(&mut self) {
        let mut options = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1",
            self.port,
            self.dir.display()
        );
        if !self.durable {
            options.push_str(" -c fsync=off -c synchronous_commit=off -c full_page_writes=off");
        }
        self.run(
            "pg_ctl",
            &[
                "-D",
                &self.data(),
                "-l",
                &self.dir.join("pg.log").display().to_string(),
                "-o",
                &options,
                "-w",
                "start",
            ],
        );
        self.running = true;
    }

    pub fn stop(&mut self) {
        if self.running {
            self.run("pg_ctl", &["-D", &self.data(), "-m", "fast", "-w", "stop"]);
            self.running = false;
        }
    }

    /// The connection string for head office's database.
    pub fn url(&self) -> String {
        format!(
            "host={} port={} user=postgres dbname=head_office",
            self.dir.display(),
            self.port
        )
    }

    /// Runs SQL with psql; answers what it printed (unaligned, tuples only).
    pub fn psql(&self, sql: &str) -> String {
        let out = Command::new("psql")
            .args(["-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1"])
            .arg("-h")
            .arg(&self.dir)
            .args(["-p", &self.port.to_string(), "-U", "postgres"])
            .arg("-d")
            .arg(if sql.starts_with("CREATE DATABASE") {
                "postgres"
            } else {
                "head_office"
            })
            .arg("-c")
            .arg(sql)
            .output()
            .expect("psql (Debian's postgresql-client)");
        let text = String::from_utf8_lossy(&out.stdout).to_string();
        assert!(
            out.status.success(),
            "psql -c {sql:?} failed:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        text.trim_end().to_string()
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        if self.running {
            let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                self.run(
                    "pg_ctl",
                    &["-D", &self.data(), "-m", "immediate", "-w", "stop"],
                )
            }));
        }
    }
}

/// The head-office binary, on a free port, logging to a file.
pub struct HeadOffice {
    pub addr: SocketAddr,
    pub dir: PathBuf,
    child: Option<Child>,
}

impl HeadOffice {
    pub fn start(
        dir: &Path,
        nats: &NatsServer,
        ca: &TestCa,
        user: &NatsUser,
        pg: &Postgres,
    ) -> HeadOffice {
        let dir = dir.join("head-office");
        std::fs::create_dir_all(&dir).expect("head office's directory");
        let addr = SocketAddr::from(([127, 0, 0, 1], free_port()));
        // As behind the company's reverse proxy on the same machine: a
        // request without X-Forwarded-For is still the peer's own.
        let config = format!(
            "listen = \"{addr}\"\ntrusted_proxies = [\"127.0.0.1\"]\n\n[nats]\nurl = \"{}\"\nnkey_seed_file = \"{}\"\nca = \"{}\"\n\n[postgres]\nurl = \"{}\"\n",
            nats.url(),
            user.seed_file.display(),
            ca.ca.display(),
            pg.url()
        );
        std::fs::write(dir.join("head-office.toml"), config).expect("head office's configuration");
        let mut office = HeadOffice {
            addr,
            dir,
            child: None,
        };
        office.launch();
        office
    }

    fn launch(&mut self) {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.dir.join("head-office.log"))
            .expect("head office's log");
        let child = Command::new(crate::workspace_bin("head-office"))
            .arg("--config")
            .arg(self.dir.join("head-office.toml"))
            .env("RUST_LOG", "info")
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("log handle"))
            .stderr(log)
            .spawn()
            .expect("the head-office binary (cargo build --workspace --bins)");
        self.child = Some(child);
        wait_for_port(self.addr, "head-office", || self.log());
    }

    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Runs `head-office user …` against this head office's database, the
    /// password (if any) on stdin as an installer would pipe it.
    pub fn user_command(&self, args: &[&str], password: Option<&str>) -> std::process::Output {
        let mut child = Command::new(crate::workspace_bin("head-office"))
            .arg("--config")
            .arg(self.dir.join("head-office.toml"))
            .arg("user")
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the head-office binary (cargo build --workspace --bins)");
        let mut stdin = child.stdin.take().expect("stdin");
        if let Some(p) = password {
            use std::io::Write;
            writeln!(stdin, "{p}").expect("the password to head-office");
        }
        drop(stdin);
        child.wait_with_output().expect("head-office user")
    }

    /// Adds a user; panics with head office's words if it refuses.
    pub fn add_user(&self, name: &str, password: &str) {
        let out = self.user_command(&["add", name], Some(password));
        assert!(
            out.status.success(),
            "head-office user add {name}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// Signs `name` in through the API, as the page does.
    pub async fn sign_in(&self, name: &str, password: &str) -> Result<OfficeClient, String> {
        OfficeClient::sign_in(&self.base_url(), name, password).await
    }

    /// The company user every test kit head office starts with.
    pub async fn admin(&self) -> OfficeClient {
        self.sign_in(ADMIN.0, ADMIN.1)
            .await
            .expect("the test kit's head office user signs in")
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("head-office.log")).unwrap_or_default()
    }

    pub fn stop(&mut self) {
        if let Some(child) = self.child.take() {
            stop_child(child, "head-office");
        }
    }
}

impl Drop for HeadOffice {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// The user the test kit adds to each head office it starts.
pub const ADMIN: (&str, &str) = ("hq-admin", "a long test password");

/// A signed-in head office user's view of the API.
pub struct OfficeClient {
    base: String,
    /// `head_office=<token>`, as the browser would send it.
    pub cookie: String,
    http: reqwest::Client,
}

impl OfficeClient {
    /// Signs `name` in to the head office at `base` (`http://HOST:PORT`).
    pub async fn sign_in(base: &str, name: &str, password: &str) -> Result<OfficeClient, String> {
        let http = reqwest::Client::new();
        let r = http
            .post(format!("{base}/api/v1/sign-in"))
            .json(&serde_json::json!({ "name": name, "password": password }))
            .send()
            .await
            .map_err(|e| e.to_string())?;
        if !r.status().is_success() {
            return Err(format!(
                "{}: {}",
                r.status(),
                r.text().await.unwrap_or_default()
            ));
        }
        let set = r
            .headers()
            .get(reqwest::header::SET_COOKIE)
            .and_then(|v| v.to_str().ok())
            .expect("a session cookie")
            .to_string();
        let cookie = set.split(';').next().unwrap_or_default().to_string();
        Ok(OfficeClient {
            base: base.to_string(),
            cookie,
            http,
        })
    }

    /// GET `path` with the session.
    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.http
            .get(format!("{}{path}", self.base))
            .header(reqwest::header::COOKIE, &self.cookie)
            .send()
            .await
            .unwrap_or_else(|e| panic!("GET {path}: {e}"))
    }

    /// GET `path` as JSON; panics with head office's answer if it fails.
    pub async fn json<T: serde::de::DeserializeOwned>(&self, path: &str) -> T {
        let r = self.get(path).await;
        let status = r.status();
        let text = r.text().await.unwrap_or_default();
        assert!(status.is_success(), "GET {path}: {status}: {text}");
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("GET {path}: {e}: {text}"))
    }

    /// POST `path` with the session and the page's header.
    pub async fn post(&self, path: &str, body: &serde_json::Value) -> reqwest::Response {
        self.http
            .post(format!("{}{path}", self.base))
            .header(reqwest::header::COOKIE, &self.cookie)
            .header("x-head-office", "1")
            .json(body)
            .send()
            .await
            .unwrap_or_else(|e| panic!("POST {path}: {e}"))
    }
}

/// The `[head_office]` section of a hall that ships to `nats` as `user`.
pub fn hall_section(hall: &str, nats: &NatsServer, ca: &TestCa, user: &NatsUser) -> String {
    format!(
        "\n[head_office]\nhall_id = \"{hall}\"\nurl = \"{}\"\nnkey_seed_file = \"{}\"\nca = \"{}\"\n",
        nats.url(),
        user.seed_file.display(),
        ca.ca.display()
    )
}

/// A company's servers: NATS (a user per hall and one for head office),
/// PostgreSQL and head office. Fields drop in order: the servers stop
/// before their directory goes.
pub struct Company {
    pub office: HeadOffice,
    pub nats: NatsServer,
    pub pg: Postgres,
    pub ca: TestCa,
    pub users: Vec<NatsUser>,
    pub dir: tempfile::TempDir,
}

impl Company {
    pub fn start(halls: &[&str]) -> Company {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let ca = TestCa::make(dir.path());
        let mut users = vec![NatsUser::new(dir.path(), "head-office", None)];
        for h in halls {
            users.push(NatsUser::new(dir.path(), h, Some(h)));
        }
        let nats = NatsServer::start(dir.path(), &ca, &users.iter().collect::<Vec<_>>());
        let pg = Postgres::start(dir.path());
        let office = HeadOffice::start(dir.path(), &nats, &ca, &users[0], &pg);
        office.add_user(ADMIN.0, ADMIN.1);
        Company {
            office,
            nats,
            pg,
            ca,
            users,
            dir,
        }
    }

    pub fn user(&self, hall: &str) -> &NatsUser {
        self.users
            .iter()
            .find(|u| u.hall.as_deref() == Some(hall))
            .unwrap_or_else(|| panic!("no NATS user for hall {hall}"))
    }

    /// A hall's configuration: `base` with its `[head_office]` section.
    pub fn hall_config(&self, base: &str, hall: &str) -> String {
        format!(
            "{base}{}",
            hall_section(hall, &self.nats, &self.ca, self.user(hall))
        )
    }
}
