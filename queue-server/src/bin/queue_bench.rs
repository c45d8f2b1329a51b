//! Load figures for the README: starts a real queue-server (the binary next
//! to this one, so build both in release mode) on 127.0.0.1 with a fresh
//! database, and measures:
//! 1. durable ticket issue with 32 concurrent clients: throughput, p50/p99;
//! 2. issue latency at a steady 200 tickets/s, with 200 event-stream
//!    subscribers connected from here on: p50/p99;
//! 3. call-next throughput with 64 counters calling at once;
//! 4. event delivery latency to the 200 subscribers (change to receipt);
//! 5. the server's RSS during all of it.
//!
//! `cargo build --release -p queue-server && target/release/queue-bench`

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime};

use clap::Parser;
use hall_api::IssueTicket;
use hall_api::client::HallClient;
use queue_server::load_test::{
    LOAD_TEST_BILLING, LOAD_TEST_DISPLAY, LOAD_TEST_KIOSK, load_test_hall,
};
use tokio::sync::Mutex;

#[derive(Parser)]
#[command(about = "Load figures for queue-server")]
struct Args {
    /// The server binary [default: queue-server next to this binary].
    #[arg(long)]
    server: Option<PathBuf>,
    /// Seconds for each timed phase.
    #[arg(long, default_value_t = 10)]
    seconds: u64,
    /// Event-stream subscribers kept connected.
    #[arg(long, default_value_t = 200)]
    subscribers: usize,
    /// Concurrent issuing clients in the throughput phase.
    #[arg(long, default_value_t = 32)]
    clients: usize,
    /// Counters calling at once.
    #[arg(long, default_value_t = 64)]
    counters: u32,
    /// Steady issue rate for the latency phase, tickets per second.
    #[arg(long, default_value_t = 200)]
    rate: u64,
    /// A library to preload into the server (LD_PRELOAD), e.g. the shim
    /// that makes every fsync as slow as an SD card's (scripts/bench-sd-card).
    #[arg(long)]
    preload: Option<PathBuf>,
    /// Measure only the issue phase (with --clients), then stop.
    #[arg(long)]
    issue_only: bool,
}

/// p-th percentile (0–100) of unsorted milliseconds.
fn percentile(values: &mut [f64], p: f64) -> f64 {
    if values.is_empty() {
        return f64::NAN;
    }
    values.sort_by(f64::total_cmp);
    let rank = ((p / 100.0) * values.len() as f64).ceil() as usize;
    values[rank.clamp(1, values.len()) - 1]
}

/// One value from the server's /metrics.
async fn metric(base: &str, name: &str) -> anyhow::Result<f64> {
    let text = reqwest::get(format!("{base}/metrics"))
        .await?
        .text()
        .await?;
    text.lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.parse().ok())
        .ok_or_else(|| anyhow::anyhow!("{name} is missing from /metrics"))
}

fn rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

struct Server {
    child: Child,
    dir: PathBuf,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn issue_req(key: String) -> IssueTicket {
    IssueTicket::new("pay", key)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let bin = match args.server {
        Some(p) => p,
        None => std::env::current_exe()?.with_file_name("queue-server"),
    };
    let dir = std::env::temp_dir().join(format!("queue-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    std::fs::write(dir.join("hall.toml"), load_test_hall(args.counters))?;
    let port = std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port();
    let base = format!("http://127.0.0.1:{port}");
    let mut command = Command::new(&bin);
    if let Some(lib) = &args.preload {
        command.env("LD_PRELOAD", lib);
    }
    let child = command
        .arg("--config")
        .arg(dir.join("hall.toml"))
        .arg("--db")
        .arg(dir.join("hall.db"))
        .arg("--listen")
        .arg(format!("127.0.0.1:{port}"))
        .env("RUST_LOG", "warn")
        .stdin(Stdio::null())
        .spawn()
        .map_err(|e| {
            anyhow::anyhow!(
                "cannot start {}: {e}; build it with cargo build --release -p queue-server",
                bin.display()
            )
        })?;
    let server = Server { child, dir };
    let pid = server.child.id();
    let kiosk = HallClient::new(&base, LOAD_TEST_KIOSK);
    let started = Instant::now();
    while kiosk.health().await.is_err() {
        anyhow::ensure!(
            started.elapsed() < Duration::from_secs(20),
            "the server did not start"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    // RSS sampler over the whole run.
    let peak_rss = Arc::new(AtomicU64::new(0));
    let sampling = Arc::new(AtomicBool::new(true));
    {
        let (peak_rss, sampling) = (peak_rss.clone(), sampling.clone());
        tokio::spawn(async move {
            while sampling.load(Ordering::Relaxed) {
                peak_rss.fetch_max(rss_kib(pid), Ordering::Relaxed);
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        });
    }

    // 1. Closed loop: each client issues as fast as it is answered.
    let phase = Duration::from_secs(args.seconds);
    let (commits0, requests0) = (
        metric(&base, "queue_writer_commits_total").await?,
        metric(&base, "queue_writer_requests_total").await?,
    );
    let mut tasks = Vec::new();
    let t0 = Instant::now();
    for c in 0..args.clients {
        let kiosk = kiosk.clone();
        tasks.push(tokio::spawn(async move {
            let mut lat = Vec::new();
            let mut i = 0u64;
            while t0.elapsed() < phase {
                let sent = Instant::now();
                kiosk
                    .issue_ticket(&issue_req(format!("burst-{c}-{i}")))
                    .await
                    .expect("issue");
                lat.push(sent.elapsed().as_secs_f64() * 1000.0);
                i += 1;
            }
            lat
        }));
    }
    let mut burst = Vec::new();
    for t in tasks {
        burst.extend(t.await?);
    }
    let burst_secs = t0.elapsed().as_secs_f64();
    let burst_n = burst.len();
    let commits = metric(&base, "queue_writer_commits_total").await? - commits0;
    let requests = metric(&base, "queue_writer_requests_total").await? - requests0;
    println!(
        "issue, {} clients: {} tickets in {:.1} s = {:.0} tickets/s; latency p50 {:.2} ms, p99 {:.2} ms",
        args.clients,
        burst_n,
        burst_secs,
        burst_n as f64 / burst_secs,
        percentile(&mut burst, 50.0),
        percentile(&mut burst, 99.0)
    );
    println!(
        "  group commit: {requests} requests in {commits} commits = {:.1} tickets per fsync'd transaction",
        requests / commits.max(1.0)
    );
    if args.issue_only {
        sampling.store(false, Ordering::Relaxed);
        println!(
            "server RSS: peak {} MB",
            peak_rss.load(Ordering::Relaxed) / 1024
        );
        return Ok(());
    }

    // Subscribers: record, per event, receipt time minus the event's own time.
    let delivery_ms = Arc::new(Mutex::new(Vec::<f64>::new()));
    let measuring = Arc::new(AtomicBool::new(false));
    let board = HallClient::new(&base, LOAD_TEST_DISPLAY);
    for _ in 0..args.subscribers {
        let mut stream = board.events(None).await?;
        let (delivery_ms, measuring) = (delivery_ms.clone(), measuring.clone());
        tokio::spawn(async move {
            let mut local = Vec::new();
            while let Some(Ok(ev)) = stream.next().await {
                if measuring.load(Ordering::Relaxed) {
                    let now_ms = SystemTime::now()
                        .duration_since(SystemTime::UNIX_EPOCH)
                        .unwrap()
                        .as_secs_f64()
                        * 1000.0;
                    local.push(now_ms - ev.at.as_millisecond() as f64);
                    if local.len() >= 256 {
                        delivery_ms.lock().await.append(&mut local);
                    }
                } else if !local.is_empty() {
                    delivery_ms.lock().await.append(&mut local);
                }
            }
            delivery_ms.lock().await.append(&mut local);
        });
    }
    let rss_idle = rss_kib(pid);
    println!(
        "{} subscribers connected: server RSS {} KiB (peak so far {} KiB)",
        args.subscribers,
        rss_idle,
        peak_rss.load(Ordering::Relaxed)
    );

    // 2. Open loop at a steady rate, with event delivery measured.
    measuring.store(true, Ordering::Relaxed);
    let interval = Duration::from_secs_f64(1.0 / args.rate as f64);
    let mut ticker = tokio::time::interval(interval);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    let mut paced = Vec::new();
    let total = args.rate * args.seconds;
    for i in 0..total {
        ticker.tick().await;
        let kiosk = kiosk.clone();
        paced.push(tokio::spawn(async move {
            let sent = Instant::now();
            kiosk
                .issue_ticket(&issue_req(format!("paced-{i}")))
                .await
                .expect("issue");
            sent.elapsed().as_secs_f64() * 1000.0
        }));
    }
    let mut paced_lat = Vec::new();
    for p in paced {
        paced_lat.push(p.await?);
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    measuring.store(false, Ordering::Relaxed);
    // One more event flushes every subscriber's local buffer.
    kiosk.issue_ticket(&issue_req("flush".into())).await?;
    tokio::time::sleep(Duration::from_millis(500)).await;
    println!(
        "issue at {} tickets/s: p50 {:.2} ms, p99 {:.2} ms (server RSS now {} KiB)",
        args.rate,
        percentile(&mut paced_lat, 50.0),
        percentile(&mut paced_lat, 99.0),
        rss_kib(pid)
    );
    let mut delivered = std::mem::take(&mut *delivery_ms.lock().await);
    println!(
        "event delivery to {} subscribers: {} deliveries, p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms (event time to receipt; ms resolution)",
        args.subscribers,
        delivered.len(),
        percentile(&mut delivered, 50.0),
        percentile(&mut delivered, 99.0),
        percentile(&mut delivered, 100.0)
    );

    // 3. Every counter calls next at once until nobody waits.
    let billing = HallClient::new(&base, LOAD_TEST_BILLING);
    let waiting: u32 = billing
        .hall()
        .await?
        .services
        .iter()
        .map(|s| s.waiting)
        .sum();
    let t0 = Instant::now();
    let mut callers = Vec::new();
    for counter in 1..=args.counters {
        let billing = billing.clone();
        callers.push(tokio::spawn(async move {
            let mut n = 0u64;
            while billing
                .call_next(counter)
                .await
                .expect("call-next")
                .is_some()
            {
                n += 1;
            }
            n
        }));
    }
    let mut calls = 0;
    for c in callers {
        calls += c.await?;
    }
    let call_secs = t0.elapsed().as_secs_f64();
    println!(
        "call-next, {} counters: {} calls ({} waiting) in {:.1} s = {:.0} calls/s",
        args.counters,
        calls,
        waiting,
        call_secs,
        calls as f64 / call_secs
    );

    sampling.store(false, Ordering::Relaxed);
    println!(
        "server RSS: {} KiB with subscribers connected, {} KiB peak under load, {} KiB at the end",
        rss_idle,
        peak_rss.load(Ordering::Relaxed),
        rss_kib(pid)
    );
    drop(server);
    Ok(())
}
