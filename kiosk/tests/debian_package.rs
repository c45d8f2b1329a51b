//! The kiosk's Debian package, installed beside the server's into a Debian
//! Bookworm root made by the test (`hall_testkit::debian`), its libraries
//! from Debian's mirror; then the installed kiosk prints a sample ticket
//! with its installed configuration, as the service user.

use hall_testkit::debian::{DebianRoot, device_token, package, package_with};

#[test]
fn the_kiosk_package_installs_beside_the_server_with_its_token() {
    let out = tempfile::tempdir().unwrap();
    let server = package(out.path(), 1);
    let kiosk = package_with(out.path(), &["--package", "kiosk"]);
    let root = DebianRoot::bootstrap();
    root.dpkg_install(&server);
    let said = root.apt_install(&kiosk);
    assert!(said.contains("with the token of kiosk-1"), "{said}");

    assert_eq!(root.stat("/usr/bin/kiosk"), "755 root root");
    assert!(root.path("/usr/lib/systemd/system/kiosk.service").exists());
    assert!(root.succeeds(&[
        "test",
        "-L",
        "/etc/systemd/system/multi-user.target.wants/kiosk.service"
    ]));
    assert_eq!(
        root.stat("/etc/hall-queue/kiosk.toml"),
        "640 root hall-queue"
    );
    let config = root.run(&["cat", "/etc/hall-queue/kiosk.toml"]);
    let token = device_token(&root, "kiosk-1");
    assert!(config.contains(&format!("token = \"{token}\"")), "{config}");
    assert!(config.contains("device = \"usb:/dev/usb/lp0\""), "{config}");

    // The installed kiosk, as its user, with its installed configuration.
    let as_kiosk = |args: &[&str]| {
        hall_testkit::debian::run(
            root.chroot(Some("hall-queue"), args),
            &format!("kiosk {}", args.join(" ")),
        )
    };
    let version = as_kiosk(&["/usr/bin/kiosk", "--version"]);
    assert_eq!(
        version.trim(),
        format!("kiosk {}", env!("CARGO_PKG_VERSION"))
    );
    as_kiosk(&[
        "/usr/bin/kiosk",
        "--config",
        "/etc/hall-queue/kiosk.toml",
        "test-print",
        "--printer",
        "file:/tmp/sample.bin",
    ]);
    let printed = as_kiosk(&["/usr/bin/kiosk", "decode", "/tmp/sample.bin"]);
    assert!(
        printed.contains("A012") && printed.contains("缴费"),
        "{printed}"
    );

    // A second configure (dpkg-reconfigure, a re-install) keeps the file.
    root.run(&["sh", "-c", "echo '# edited' >> /etc/hall-queue/kiosk.toml"]);
    root.run(&["dpkg-reconfigure", "hall-queue-kiosk"]);
    assert!(
        root.run(&["cat", "/etc/hall-queue/kiosk.toml"])
            .ends_with("# edited\n")
    );
    root.run(&["dpkg", "-r", "hall-queue-kiosk"]);
    assert!(root.succeeds(&["test", "-f", "/etc/hall-queue/kiosk.toml"]));
    root.run(&["dpkg", "-P", "hall-queue-kiosk"]);
    assert!(!root.succeeds(&["test", "-e", "/etc/hall-queue/kiosk.toml"]));
    // The server's configuration is the server's.
    assert!(root.succeeds(&["test", "-f", "/etc/hall-queue/hall.toml"]));
}
