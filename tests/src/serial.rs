//! A virtual serial cable: socat joins two pseudo-terminals, so a program
//! opens one end with the serialport crate as if it were /dev/ttyUSB0 and
//! the test plays the device on the other end.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct SerialPair {
    /// The end the program under test opens (the "printer port").
    pub port: PathBuf,
    /// The end the simulated device reads and answers on.
    pub device: PathBuf,
    socat: Child,
    _dir: tempfile::TempDir,
}

impl SerialPair {
    pub fn new() -> SerialPair {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let port = dir.path().join("port");
        let device = dir.path().join("device");
        let socat = Command::new("socat")
            .arg(format!("pty,raw,echo=0,link={}", port.display()))
            .arg(format!("pty,raw,echo=0,link={}", device.display()))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("socat runs (Debian package socat; scripts/setup installs it)");
        let deadline = Instant::now() + Duration::from_secs(5);
        while !(port.exists() && device.exists()) {
            assert!(
                Instant::now() < deadline,
                "socat made no serial pair in 5 s"
            );
            std::thread::sleep(Duration::from_millis(10));
        }
        SerialPair {
            port,
            device,
            socat,
            _dir: dir,
        }
    }

    /// The cable is pulled: both ends disappear.
    pub fn unplug(&mut self) {
        let _ = self.socat.kill();
        let _ = self.socat.wait();
        let deadline = Instant::now() + Duration::from_secs(5);
        while self.port.exists() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

impl Default for SerialPair {
    fn default() -> Self {
        Self::new()
    }
}

impl Drop for SerialPair {
    fn drop(&mut self) {
        let _ = self.socat.kill();
        let _ = self.socat.wait();
    }
}
