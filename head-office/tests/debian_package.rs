//! The head office package on a fresh Debian Bookworm root (debootstrap):
//! installed, configured as an installer would, run as its own user from
//! its installed path against the company's NATS and PostgreSQL (the test
//! kit's, on loopback, which the root shares), then purged.

use hall_api::IssueTicket;
use hall_testkit::debian::{DebianRoot, InstalledServer, assert_lintian_clean, package_with};
use hall_testkit::office::{ADMIN, Company, OfficeClient};
use hall_testkit::{ServerOptions, ServerProcess, eventually, free_port, queue_server_bin};

const CONFIG: &str = "/etc/head-office/head-office.toml";
const SEED: &str = "/etc/head-office/head-office.nk";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_head_office_package_installs_serves_as_its_own_user_and_purges() {
    let out = tempfile::tempdir().unwrap();
    let deb = package_with(out.path(), &["--package", "head-office", "--revision", "1"]);
    assert_lintian_clean(&deb);

    // The install makes the user, the folder and head office's own NATS
    // key, and says what the installer does next.
    let root = DebianRoot::bootstrap();
    let said = root.dpkg_install(&deb);
    assert!(
        root.run(&["getent", "passwd", "head-office"])
            .contains(":/usr/sbin/nologin"),
    );
    assert_eq!(root.stat("/etc/head-office"), "750 root head-office");
    assert_eq!(root.stat(SEED), "600 head-office head-office");
    let seed = queue_server::head_office::read_seed(&root.path(SEED)).unwrap();
    let public = nkeys::KeyPair::from_seed(&seed).unwrap().public_key();
    assert!(said.contains(&format!("{{ nkey: {public} }}")), "{said}");
    assert!(said.contains("systemctl start head-office"), "{said}");
    assert!(
        root.path("/usr/share/doc/hall-head-office/head-office.example.toml")
            .exists()
    );
    // The unit's sandbox, as systemd rates it.
    let mut rate = std::process::Command::new("systemd-analyze");
    rate.args(["security", "--offline=yes"])
        .arg(format!("--root={}", root.path("/").display()))
        .arg("head-office.service");
    let rating = hall_testkit::debian::run(rate, "systemd-analyze security");
    let overall = rating.lines().last().unwrap_or_default();
    println!("{overall}");
    assert!(
        overall.contains(" OK") || overall.contains(" SAFE"),
        "{rating}"
    );

    // Configured as the README says, against the company's servers: its
    // key replaced by the one nats-server knows for head office.
    let mut company = Company::start(&["east-1"]);
    company.office.stop();
    root.write(SEED, &company.users[0].seed(), "600");
    root.run(&["chown", "head-office:head-office", SEED]);
    root.write(
        "/etc/head-office/nats-ca.pem",
        &std::fs::read_to_string(&company.ca.ca).unwrap(),
        "644",
    );
    let port = free_port();
    root.write(
        CONFIG,
        &format!(
            "listen = \"127.0.0.1:{port}\"\n\n[nats]\nurl = \"{}\"\nnkey_seed_file = \"{SEED}\"\n\
             ca = \"/etc/head-office/nats-ca.pem\"\n\n[postgres]\n\
             url = \"host=127.0.0.1 port={} user=postgres dbname=head_office\"\n",
            company.nats.url(),
            company.pg.port
        ),
        "640",
    );
    root.run(&["chgrp", "head-office", CONFIG]);
    let checked = root
        .chroot(
            Some("head-office"),
            &["/usr/bin/head-office", "check-config", CONFIG],
        )
        .output()
        .unwrap();
    assert!(
        checked.status.success(),
        "{}",
        String::from_utf8_lossy(&checked.stderr)
    );

    // The installed program, as its user, takes a hall's events and shows
    // them to a company user.
    let mut office = InstalledServer::start_found_by(
        root.chroot(
            Some("head-office"),
            &["/usr/bin/head-office", "--config", CONFIG],
        ),
        port,
        &format!("--config {CONFIG}$"),
    );
    office.wait_ready().await;
    let east = ServerProcess::start(
        queue_server_bin(),
        ServerOptions {
            config: Some(company.hall_config(queue_server::config::DEMO_TOML, "east-1")),
            ..Default::default()
        },
    )
    .await;
    east.client("demo-kiosk")
        .issue_ticket(&IssueTicket::new("pay", "packaged"))
        .await
        .unwrap();
    let hq = OfficeClient::sign_in(&office.base, ADMIN.0, ADMIN.1)
        .await
        .unwrap();
    eventually(
        "the installed head office has the east's ticket",
        || async {
            hq.json::<Vec<head_office::queries::HallNow>>("/api/v1/halls")
                .await
                .iter()
                .any(|h| h.hall == "east-1" && h.issued_today == 1)
        },
    )
    .await;
    office.stop();

    // Purged: the key it made goes, the installer's configuration stays.
    root.run(&["dpkg", "--purge", "hall-head-office"]);
    assert!(!root.path("/usr/bin/head-office").exists());
    assert!(!root.path(SEED).exists());
    assert!(root.path(CONFIG).exists());
}
