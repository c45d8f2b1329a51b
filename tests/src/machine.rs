//! A Debian root booted by its own systemd, in a qemu virtual machine: the
//! installed units run as on a hall's box (their ExecStartPre, reload,
//! hardening, timers and path units), which a chroot cannot show. The
//! machine has no network; a probe unit inside runs the checks a test
//! gives it, writes what it saw to a report and powers off. The test reads
//! the report from the disk image afterwards (debugfs, no mount needed).
//!
//! Always qemu's own emulation (TCG), never KVM: inside a virtual machine
//! /dev/kvm can open and still run no guest (seen here: no output, then
//! qemu aborts on an MSR). Emulated, the boot takes about half a minute on
//! 2 cores, the same everywhere. Needs root, like the chroot tests.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::debian::{DebianRoot, as_root, run};

/// What the machine needs beyond a minimal root: systemd as init, a kernel
/// for virtual machines (virtio built for it), curl for the probe's HTTP.
pub const BOOTABLE: &[&str] = &["systemd-sysv", "linux-image-cloud-amd64", "curl"];

/// Where the probe writes `key=value` lines, inside the machine.
const REPORT: &str = "/var/lib/hall-probe/report";

/// One boot of `root` that runs `probe` (a shell script, as root, once
/// multi-user.target is reached) and powers off. The root's disk is a copy:
/// `root` itself is left as it was.
pub struct Boot {
    /// Each line the probe reported, `key=value`.
    pub report: Vec<(String, String)>,
    /// The serial console: the kernel's and systemd's own words.
    pub console: String,
    /// Start of qemu to power-off.
    pub took: Duration,
}

impl Boot {
    /// The value of `key`; panics with the console when the probe did not report it.
    pub fn get(&self, key: &str) -> &str {
        self.report
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
            .unwrap_or_else(|| {
                panic!(
                    "the probe reported no {key}; report: {:?}\nconsole:\n{}",
                    self.report, self.console
                )
            })
    }
}

pub fn boot(root: &DebianRoot, probe: &str) -> Boot {
    install_probe(root, probe);
    let work = tempfile::tempdir().unwrap();
    let disk = work.path().join("disk.img");
    let mut truncate = Command::new("truncate");
    truncate.args(["-s", "4G"]).arg(&disk);
    run(truncate, "truncate");
    // mke2fs copies the root in (-d) with its owners and modes: no loop
    // device, no mount.
    let mut mkfs = as_root("mkfs.ext4");
    mkfs.args(["-q", "-F", "-L", "hall", "-d"])
        .arg(root.path("/"))
        .arg(&disk);
    run(mkfs, "mkfs.ext4 -d of the root");
    let kernel = newest(root, "vmlinuz-");
    let initrd = newest(root, "initrd.img-");
    let console = work.path().join("console.log");
    let mut qemu = as_root("qemu-system-x86_64");
    qemu.args(["-accel", "tcg"])
        .args(["-m", "1024", "-smp", "2", "-nodefaults", "-no-reboot"])
        .args(["-display", "none", "-nic", "none"])
        .arg("-serial")
        .arg(format!("file:{}", console.display()))
        .arg("-kernel")
        .arg(&kernel)
        .arg("-initrd")
        .arg(&initrd)
        .args([
            "-append",
            "root=/dev/vda rw console=ttyS0 panic=-1 systemd.show_status=1",
        ])
        .arg("-drive")
        .arg(format!("file={},format=raw,if=virtio", disk.display()));
    let started = Instant::now();
    let mut child = qemu
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("qemu-system-x86_64 (Debian's qemu-system-x86)");
    // Boot, probe and power-off take about a minute; a loaded machine more.
    let deadline = started + Duration::from_secs(600);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "the machine did not power off in time; console:\n{}",
                std::fs::read_to_string(&console).unwrap_or_default()
            );
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    let took = started.elapsed();
    let console_text =
        String::from_utf8_lossy(&std::fs::read(&console).unwrap_or_default()).replace('\r', "");
    assert!(
        status.success(),
        "qemu failed ({status}); console:\n{console_text}"
    );
    let mut debugfs = Command::new("debugfs");
    debugfs.args(["-R", &format!("cat {REPORT}")]).arg(&disk);
    let text = debugfs
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output()
        .expect("debugfs (e2fsprogs)");
    let report = String::from_utf8_lossy(&text.stdout)
        .lines()
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    Boot {
        report,
        console: console_text,
        took,
    }
}

/// The probe as a unit that runs once the machine is up, then powers it off
/// (also when the probe fails, so a failing test does not wait for the
/// deadline).
fn install_probe(root: &DebianRoot, probe: &str) {
    let script = format!(
        "#!/bin/sh\n# The test's checks inside the machine: key=value lines to the report.\n\
         mkdir -p {dir}\nexec >{REPORT} 2>&1\nsay() {{ echo \"$1=$2\"; }}\n{probe}\n",
        dir = Path::new(REPORT).parent().unwrap().display()
    );
    let unit = "[Unit]\nDescription=The test's probe\nAfter=multi-user.target\n\n\
                [Service]\nType=oneshot\nExecStart=/usr/local/sbin/hall-probe\n\
                ExecStopPost=/bin/systemctl --no-block poweroff\nTimeoutStartSec=300\n\n\
                [Install]\nWantedBy=multi-user.target\n";
    root.write("/usr/local/sbin/hall-probe", &script, "755");
    root.write("/etc/systemd/system/hall-probe.service", unit, "644");
    root.run(&["systemctl", "enable", "hall-probe.service"]);
}

/// The root's newest file in /boot starting with `prefix`.
fn newest(root: &DebianRoot, prefix: &str) -> PathBuf {
    let mut found: Vec<_> = std::fs::read_dir(root.path("/boot"))
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with(prefix))
        })
        .collect();
    found.sort();
    found
        .pop()
        .unwrap_or_else(|| panic!("no /boot/{prefix}* in the root: is a kernel installed?"))
}
