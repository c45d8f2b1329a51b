//! billing-sim as a real process, and the demo hall linked to it.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The webhook secret the linked hall and the simulator share in tests.
pub const SECRET: &str = "test-secret-0123456789";
const DEMO_HALL: &str = include_str!("../../queue-server/demo.toml");

/// The demo hall, with a webhook and the account lookup pointing at a
/// billing-sim on `sim_port`.
pub fn linked_hall(sim_port: u16) -> String {
    format!(
        "{DEMO_HALL}\n\
         [[webhook]]\nname = \"billing\"\nurl = \"http://127.0.0.1:{sim_port}/hall/events\"\nsecret = \"{SECRET}\"\n\
         events = [\"ticket.called\", \"ticket.completed\", \"ticket.no_show\", \"ticket.transferred\"]\n\
         retry_max_s = 1\n\n\
         [billing]\naccount_url = \"http://127.0.0.1:{sim_port}/accounts/{{ref}}\"\ntimeout_ms = 500\n"
    )
}

pub struct BillingSim {
    child: Child,
    pub port: u16,
    /// Plain, or over https trusting the simulator's CA.
    client: hall_api::client::HallClient,
}

impl BillingSim {
    pub async fn start(bin: &Path, port: u16) -> BillingSim {
        let client = hall_api::client::HallClient::new(format!("http://127.0.0.1:{port}"), "");
        Self::launch(bin, port, &[], client).await
    }

    /// Serving https with the certificate chain `cert` and its `key`, both
    /// PEM files; `ca_pem` is the CA that signed `cert`.
    pub async fn start_tls(
        bin: &Path,
        port: u16,
        cert: &Path,
        key: &Path,
        ca_pem: &[u8],
    ) -> BillingSim {
        let client =
            hall_api::client::HallClient::pinned(format!("https://127.0.0.1:{port}"), "", ca_pem)
                .expect("a usable test CA");
        let tls = [
            "--tls-cert".as_ref(),
            cert.as_os_str(),
            "--tls-key".as_ref(),
            key.as_os_str(),
        ];
        Self::launch(bin, port, &tls, client).await
    }

    async fn launch(
        bin: &Path,
        port: u16,
        extra: &[&std::ffi::OsStr],
        client: hall_api::client::HallClient,
    ) -> BillingSim {
        let child = Command::new(bin)
            .args([
                "serve",
                "--listen",
                &format!("127.0.0.1:{port}"),
                "--secret",
                SECRET,
            ])
            .args(extra)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", bin.display()));
        let sim = BillingSim {
            child,
            port,
            client,
        };
        let deadline = Instant::now() + Duration::from_secs(10);
        while sim.received().await.is_err() {
            assert!(Instant::now() < deadline, "billing-sim did not start");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        sim
    }

    /// What arrived so far: `{"events": [...], "rejected": n}`.
    pub async fn received(&self) -> Result<serde_json::Value, hall_api::client::ClientError> {
        let text = self.client.get_text("/received").await?;
        serde_json::from_str(&text)
            .map_err(|e| hall_api::client::ClientError::Decode(e.to_string()))
    }

    /// Waits until `n` events have arrived, and returns the log.
    pub async fn wait_for(&self, n: usize) -> serde_json::Value {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let log = self.received().await.expect("billing-sim answers");
            if log["events"].as_array().map_or(0, Vec::len) >= n {
                return log;
            }
            assert!(
                Instant::now() < deadline,
                "only {} of {n} events arrived: {log}",
                log["events"]
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

impl Drop for BillingSim {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
