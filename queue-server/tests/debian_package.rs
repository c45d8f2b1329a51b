//! The server's Debian package, installed as an installer would into a
//! Debian Bookworm root made by the test (`hall_testkit::debian`), and the
//! Pi's arm64 package run under qemu. The packages are made from
//! target/debug/queue-server, which cargo builds for this test.

use std::process::Command;

use hall_api::IssueTicket;
use hall_api::client::HallClient;
use hall_testkit::debian::{DebianRoot, InstalledServer, device_token, package, package_with, run};
use hall_testkit::free_port;

#[tokio::test]
async fn the_server_package_installs_upgrades_keeps_the_day_and_purges() {
    let out = tempfile::tempdir().unwrap();
    let first = package(out.path(), 1);
    let second = package(out.path(), 2);
    hall_testkit::debian::assert_lintian_clean(&first);

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
        "hall-queue-time.service",
        "hall-queue-time.path",
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
    assert!(root.succeeds(&[
        "test",
        "-L",
        "/etc/systemd/system/multi-user.target.wants/hall-queue-time.path"
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

    chrony_takes_the_halls_time_servers(&root);

    // The installed server answers, with the kiosk token from the installer's file.
    let token = device_token(&root, "kiosk-1");
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
    assert_eq!(device_token(&root, "kiosk-1"), token);
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
        "/etc/chrony/sources.d/hall-queue.sources",
    ] {
        assert!(
            !root.succeeds(&["test", "-e", gone]),
            "{gone} is left after purge"
        );
    }
}

/// What the probe does inside the booted machine, as root: the checks of
/// an installer at a real box, with systemd running the installed units.
const PROBE: &str = r#"
pid=$(systemctl show -p MainPID --value queue-server)
say server "$(systemctl is-active queue-server)"
say server_uid "$(awk '/^Uid:/ {print $2}' /proc/$pid/status)"
say hall_queue_uid "$(id -u hall-queue)"
token=$(sed -n 's/^kiosk-1 = "\(.*\)"$/\1/p' /etc/hall-queue/device-tokens.txt)
issue() {
    curl -sS -H "authorization: Bearer $token" -H 'content-type: application/json' \
        -d "{\"service\":\"pay\",\"idempotency_key\":\"$1\"}" http://127.0.0.1:8080/api/v1/tickets
}
say first_ticket "$(issue vm-1)"

# A broken edit: the reload is refused and the serving server stays.
cp /etc/hall-queue/hall.toml /root/hall.toml.good
echo 'this is not toml' >> /etc/hall-queue/hall.toml
systemctl reload queue-server; say broken_reload_rc $?
say pid_before "$pid"
say pid_after_broken "$(systemctl show -p MainPID --value queue-server)"
say broken_in_journal "$(journalctl --namespace hall-queue -u queue-server -o cat | grep -m1 'hall.toml:')"

# The hall's time server: the path unit rewrites chrony's sources, chrony takes it.
cp /root/hall.toml.good /etc/hall-queue/hall.toml
printf '\n[time]\nservers = ["10.20.0.1"]\n' >> /etc/hall-queue/hall.toml
for i in $(seq 100); do chronyc -n sources 2>/dev/null | grep -q 10.20.0.1 && break; sleep 0.1; done
say sources "$(grep -v '^#' /etc/chrony/sources.d/hall-queue.sources)"
say chrony_has_it "$(chronyc -n sources | grep -c 10.20.0.1)"

# The mended edit: the reload restarts the server, and the day goes on.
systemctl reload queue-server; say good_reload_rc $?
for i in $(seq 100); do
    new=$(systemctl show -p MainPID --value queue-server)
    [ "$new" != "$pid" ] && [ "$new" != 0 ] && curl -sf http://127.0.0.1:8080/healthz >/dev/null && break
    sleep 0.1
done
say pid_after_good "$(systemctl show -p MainPID --value queue-server)"
say second_ticket "$(issue vm-2)"

# The nightly backup, started as its timer would.
say timer "$(systemctl is-enabled queue-server-backup.timer) $(systemctl is-active queue-server-backup.timer)"
systemctl start queue-server-backup.service; say backup_rc $?
say backups "$(ls /var/lib/queue-server/backups | wc -l)"

# The hardening, as systemd rates the units it runs.
for u in queue-server queue-server-backup hall-queue-time; do
    say "security_$u" "$(systemd-analyze security --no-pager $u 2>&1 | tail -1)"
done
say failed "$(systemctl --failed --no-legend --plain 'queue-server*' 'hall-queue*' | tr '\n' ' ')"
"#;

/// The installed units under a real systemd, in a virtual machine booted
/// from a Debian root with the package (`hall_testkit::machine`): the
/// server starts as its user behind its hardening and serves; a broken
/// edit is refused by `reload` while the server stays; the hall's time
/// server reaches chrony through the path unit; a mended edit restarts it
/// and numbering goes on; the backup runs as its timer would start it.
#[test]
fn the_installed_units_run_under_systemd() {
    let out = tempfile::tempdir().unwrap();
    let deb = package(out.path(), 1);
    let root = DebianRoot::bootstrap();
    let mut wanted = hall_testkit::machine::BOOTABLE.to_vec();
    wanted.push("chrony");
    root.apt_get_install(&wanted);
    root.dpkg_install(&deb);
    let boot = hall_testkit::machine::boot(&root, PROBE);
    println!(
        "booted, probed and powered off in {:.1} s (emulated)",
        boot.took.as_secs_f64()
    );
    assert_eq!(boot.get("server"), "active", "{}", boot.console);
    assert_eq!(boot.get("server_uid"), boot.get("hall_queue_uid"));
    assert!(
        boot.get("first_ticket").contains("\"number\":\"A001\""),
        "{}",
        boot.get("first_ticket")
    );

    assert_ne!(
        boot.get("broken_reload_rc"),
        "0",
        "a broken edit must not reload"
    );
    assert_eq!(
        boot.get("pid_after_broken"),
        boot.get("pid_before"),
        "the server stays"
    );
    let said = boot.get("broken_in_journal");
    assert!(said.contains("/etc/hall-queue/hall.toml:"), "{said}");

    assert_eq!(boot.get("sources"), "server 10.20.0.1 iburst");
    assert_eq!(
        boot.get("chrony_has_it"),
        "1",
        "chrony reloaded its sources"
    );

    assert_eq!(boot.get("good_reload_rc"), "0");
    assert_ne!(
        boot.get("pid_after_good"),
        boot.get("pid_before"),
        "restarted"
    );
    assert!(
        boot.get("second_ticket").contains("\"number\":\"A002\""),
        "{}",
        boot.get("second_ticket")
    );

    assert_eq!(boot.get("timer"), "enabled active");
    assert_eq!(boot.get("backup_rc"), "0");
    assert_eq!(boot.get("backups"), "1");
    for unit in ["queue-server", "queue-server-backup", "hall-queue-time"] {
        let rating = boot.get(&format!("security_{unit}"));
        println!("{rating}");
        assert!(
            rating.contains(" OK") || rating.contains(" SAFE"),
            "{rating}"
        );
    }
    assert_eq!(boot.get("failed"), "", "{}", boot.console);
}

/// chrony (the package recommends it) gets `[time] servers` of the hall
/// configuration: through the package's trigger when chrony comes after
/// it, then from the command of the installed `hall-queue-time` unit, run
/// as after an edit, once the installer lists the hall's servers.
fn chrony_takes_the_halls_time_servers(root: &DebianRoot) {
    root.apt_get_install(&["chrony"]);
    let chrony_conf = root.run(&["cat", "/etc/chrony/chrony.conf"]);
    assert!(
        chrony_conf
            .lines()
            .any(|l| l.trim() == "sourcedir /etc/chrony/sources.d"),
        "Debian's chrony reads sources.d:\n{chrony_conf}"
    );
    let unit = root.run(&["cat", "/usr/lib/systemd/system/hall-queue-time.service"]);
    let exec: Vec<&str> = unit
        .lines()
        .find_map(|l| l.strip_prefix("ExecStart="))
        .expect("the unit's ExecStart")
        .split_whitespace()
        .collect();
    let sources = "/etc/chrony/sources.d/hall-queue.sources";
    let servers_in = || {
        let text = root.run(&["cat", sources]);
        text.lines()
            .filter(|l| !l.starts_with('#'))
            .map(str::to_string)
            .collect::<Vec<_>>()
    };
    // Installing chrony after the server triggered the package: the file
    // is there at once, without the hall's servers yet.
    assert!(servers_in().is_empty());
    assert_eq!(root.stat(sources), "644 root root");
    assert!(
        root.run(&exec)
            .contains("is up to date: no time servers of the hall's")
    );

    root.run(&[
        "sh",
        "-c",
        "printf '\\n[time]\\nservers = [\"ntp.company.lan\", \"10.20.0.1\"]\\n' >> /etc/hall-queue/hall.toml",
    ]);
    let said = root.run(&exec);
    assert!(
        said.contains("wrote") && said.contains("2 time servers"),
        "{said}"
    );
    assert_eq!(
        servers_in(),
        ["server ntp.company.lan iburst", "server 10.20.0.1 iburst"]
    );
    assert!(root.run(&exec).contains("is up to date"));
}

/// The Pi's package: its binary is an arm64 one, and it runs (under
/// qemu-aarch64 here): its version, and the checks of the demo hall and of
/// a configuration it generates itself.
#[test]
fn the_arm64_package_runs_under_qemu() {
    const TARGET: &str = "aarch64-unknown-linux-gnu";
    let out = tempfile::tempdir().unwrap();
    let deb = package_with(
        out.path(),
        &["--package", "queue-server", "--target", TARGET],
    );
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

/// The static build: one executable that needs nothing from the system it
/// runs on. Proven by running it, from the tarball, in a root that holds
/// nothing else (no libc, no /etc, no CA store, no time zone files): it
/// writes a configuration, checks it, and serves a ticket over HTTP.
#[tokio::test]
async fn the_static_server_runs_alone_in_an_empty_root() {
    static_server_runs_alone("x86_64-unknown-linux-musl", "amd64", None).await;
}

/// The same for arm64 (a Pi, or a domestic ARM platform with an old
/// glibc), run under qemu-aarch64, which is itself static: the root holds
/// only the tarball's folder and the emulator.
#[tokio::test]
async fn the_static_arm64_server_runs_alone_in_an_empty_root() {
    static_server_runs_alone(
        "aarch64-unknown-linux-musl",
        "arm64",
        Some("/usr/bin/qemu-aarch64-static"),
    )
    .await;
}

async fn static_server_runs_alone(target: &str, arch: &str, emulator: Option<&str>) {
    let out = tempfile::tempdir().unwrap();
    package_with(out.path(), &["--target", target]);
    let name = format!("hall-queue-server-{}-{target}", env!("CARGO_PKG_VERSION"));
    let deb = out.path().join(format!(
        "hall-queue-server_{}-1_{arch}.deb",
        env!("CARGO_PKG_VERSION")
    ));
    let mut depends = Command::new("dpkg-deb");
    depends.arg("-f").arg(&deb).arg("Depends");
    assert_eq!(run(depends, "dpkg-deb -f").trim(), "passwd", "no libc6");

    let root = tempfile::tempdir().unwrap();
    let mut untar = Command::new("tar");
    untar
        .arg("-C")
        .arg(root.path())
        .arg("-xzf")
        .arg(out.path().join(format!("{name}.tar.gz")));
    run(untar, "tar -x");
    for unit in [
        "queue-server.service",
        "queue-server-backup.timer",
        "hall-queue-time.service",
        "hall-queue-time.path",
    ] {
        assert!(root.path().join(&name).join("systemd").join(unit).exists());
    }
    let mut file = Command::new("file");
    file.arg("-b")
        .arg(root.path().join(&name).join("queue-server"));
    let kind = run(file, "file");
    assert!(kind.contains("static"), "{kind}");
    if arch == "arm64" {
        assert!(kind.contains("ARM aarch64"), "{kind}");
    }
    let everything: Vec<_> = std::fs::read_dir(root.path()).unwrap().collect();
    assert_eq!(
        everything.len(),
        1,
        "the root holds only the tarball's folder"
    );
    if let Some(emulator) = emulator {
        let mut file = Command::new("file");
        file.arg("-b").arg(emulator);
        assert!(run(file, "file").contains("static"), "{emulator}");
        std::fs::copy(emulator, root.path().join("emulator")).unwrap();
    }

    let inside = |args: &[&str]| {
        let mut c = hall_testkit::debian::as_root("chroot");
        c.arg(root.path());
        if emulator.is_some() {
            c.arg("/emulator");
        }
        c.arg(format!("/{name}/queue-server")).args(args);
        c
    };
    let version = run(inside(&["--version"]), "--version in an empty root");
    assert_eq!(
        version.trim(),
        format!("queue-server {}", env!("CARGO_PKG_VERSION"))
    );
    run(
        inside(&["init-config", "--out", "/hall.toml", "--tokens", "/tokens"]),
        "init-config in an empty root",
    );
    let checked = run(
        inside(&["--config", "/hall.toml", "check-config"]),
        "check-config",
    );
    assert!(checked.contains("configuration OK"), "{checked}");
    let tokens = std::fs::read_to_string(root.path().join("tokens")).unwrap();
    let port = free_port();
    let listen = format!("127.0.0.1:{port}");
    let mut server = InstalledServer::start(
        inside(&[
            "--config",
            "/hall.toml",
            "--db",
            "/hall.db",
            "--listen",
            &listen,
        ]),
        port,
    );
    server.wait_ready().await;
    let kiosk = HallClient::new(
        server.base.clone(),
        hall_testkit::token_in(&tokens, "kiosk-1"),
    );
    let (ticket, _) = kiosk
        .issue_ticket(&IssueTicket::new("pay", "static-1"))
        .await
        .unwrap();
    assert_eq!(ticket.number, "A001");
    // The time zone database is built in: with no zone files in the root,
    // the business day (from 05:00) is Shanghai's.
    let hall = kiosk.hall().await.unwrap();
    let day = jiff::Timestamp::now()
        .in_tz("Asia/Shanghai")
        .unwrap()
        .checked_sub(jiff::SignedDuration::from_hours(5))
        .unwrap()
        .date();
    assert_eq!(hall.hall.timezone, "Asia/Shanghai");
    assert_eq!(hall.hall.business_day, day);
    server.stop();
}
