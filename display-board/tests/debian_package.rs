//! The board's Debian package, installed beside the server's into a Debian
//! Bookworm root made by the test (`hall_testkit::debian`), its libraries
//! from Debian's mirror; then the installed board speaks a call from the
//! installed clips into a WAV file, as the service user.

use hall_testkit::debian::{DebianRoot, device_token, package, package_with};

#[test]
fn the_board_package_installs_beside_the_server_with_its_token_and_voice() {
    let out = tempfile::tempdir().unwrap();
    let server = package(out.path(), 1);
    let board = package_with(out.path(), &["--package", "display-board"]);
    let root = DebianRoot::bootstrap();
    root.dpkg_install(&server);
    let said = root.apt_install(&board);
    assert!(said.contains("with the token of the board"), "{said}");

    assert_eq!(root.stat("/usr/bin/display-board"), "755 root root");
    assert!(
        root.path("/usr/lib/systemd/system/display-board.service")
            .exists()
    );
    assert!(root.succeeds(&[
        "test",
        "-L",
        "/etc/systemd/system/multi-user.target.wants/display-board.service"
    ]));
    assert_eq!(
        root.stat("/etc/hall-queue/board.toml"),
        "640 root hall-queue"
    );
    let config = root.run(&["cat", "/etc/hall-queue/board.toml"]);
    let token = device_token(&root, "board");
    assert!(config.contains(&format!("token = \"{token}\"")), "{config}");
    assert!(
        config.contains("sounds = \"/usr/share/hall-queue/sounds\""),
        "{config}"
    );
    // Every clip the manifest names is installed.
    let shipped = std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/../sounds/zh"))
        .unwrap()
        .count();
    let installed = std::fs::read_dir(root.path("/usr/share/hall-queue/sounds/zh"))
        .unwrap()
        .count();
    assert_eq!(installed, shipped);

    // The installed board speaks "A012 to counter 3" from the installed clips.
    let as_board = |args: &[&str]| {
        hall_testkit::debian::run(
            root.chroot(Some("hall-queue"), args),
            &format!("display-board {}", args.join(" ")),
        )
    };
    let version = as_board(&["/usr/bin/display-board", "--version"]);
    assert_eq!(
        version.trim(),
        format!("display-board {}", env!("CARGO_PKG_VERSION"))
    );
    as_board(&[
        "/usr/bin/display-board",
        "announce",
        "--ticket",
        "A012",
        "--counter",
        "3",
        "--sounds",
        "/usr/share/hall-queue/sounds",
        "--wav",
        "/tmp/call.wav",
    ]);
    let wav = std::fs::read(root.path("/tmp/call.wav")).unwrap();
    assert_eq!(&wav[..4], b"RIFF");
    // 16-bit mono or stereo at its rate: more than a second of speech.
    let rate = u32::from_le_bytes(wav[24..28].try_into().unwrap()) as usize;
    let per_second = u32::from_le_bytes(wav[28..32].try_into().unwrap()) as usize;
    assert!(
        rate >= 8000 && wav.len() > per_second,
        "{} bytes",
        wav.len()
    );

    root.run(&["dpkg", "-P", "hall-queue-board"]);
    assert!(!root.succeeds(&["test", "-e", "/etc/hall-queue/board.toml"]));
    assert!(!root.path("/usr/share/hall-queue/sounds").exists());
}
