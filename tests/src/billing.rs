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
}

impl BillingSim {
    pub async fn start(bin: &Path, port: u16) -> BillingSim {
        let child = Command::new(bin)
            .args([
                "serve",
                "--listen",
                &format!("127.0.0.1:{port}"),
                "--secret",
                SECRET,
            ])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", bin.display()));
        let sim = BillingSim { child, port };
        let deadline = Instant::now() + Duration::from_secs(10);
        while sim.received().await.is_err() {
            assert!(Instant::now() < deadline, "billing-sim did not start");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        sim
    }

    /// What arrived so far: `{"events": [...], "rejected": n}`.
    pub async fn received(&self) -> Result<serde_json::Value, hall_api::client::ClientError> {
        let text = reqwest_free_get(self.port, "/received").await?;
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

/// A GET through the API client's HTTP stack (no token needed here).
async fn reqwest_free_get(port: u16, path: &str) -> Result<String, hall_api::client::ClientError> {
    let client = hall_api::client::HallClient::new(format!("http://127.0.0.1:{port}"), "");
    client.get_text(path).await
}
