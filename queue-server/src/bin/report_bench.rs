//! Report figures for the README: writes a year of realistic history
//! (business days Monday to Saturday, a morning and an afternoon peak,
//! waits that grow with the queue, no-shows and cancellations, counters
//! opening and closing) into a fresh database of the demo hall, starts the
//! real queue-server (the binary next to this one) on it, and measures over
//! HTTP on 127.0.0.1:
//! 1. a day's report, a month's, and the year's workbook;
//! 2. what the console's first view loads (page, scripts, snapshot, today);
//! 3. the server's RSS at rest before and after.
//!
//! `cargo build --release -p queue-server && target/release/report-bench`

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use clap::Parser;
use jiff::civil::Date;
use jiff::tz::TimeZone;
use rusqlite::params;

#[derive(Parser)]
#[command(about = "Report figures for queue-server over a year of history")]
struct Args {
    /// The server binary [default: queue-server next to this binary].
    #[arg(long)]
    server: Option<PathBuf>,
    /// Business days of history.
    #[arg(long, default_value_t = 300)]
    days: u32,
    /// Tickets in all, spread over the days.
    #[arg(long, default_value_t = 500_000)]
    tickets: u32,
    /// Times each request is repeated (the median is reported).
    #[arg(long, default_value_t = 5)]
    repeat: usize,
}

/// xorshift64*: repeatable history without another dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
    fn exp(&mut self, mean: f64) -> f64 {
        -mean * (1.0 - self.unit()).ln()
    }
}

/// Arrivals per opening hour, 08:30–17:00, as a hall sees them.
const HOURLY_SHARE: [(u8, f64); 9] = [
    (8, 0.06),
    (9, 0.16),
    (10, 0.17),
    (11, 0.12),
    (12, 0.06),
    (13, 0.09),
    (14, 0.13),
    (15, 0.13),
    (16, 0.08),
];

/// (service, prefix, share of customers, mean service minutes) of the demo hall.
const SERVICES: [(&str, &str, f64, f64); 6] = [
    ("vip", "V", 0.04, 6.0),
    ("pay", "A", 0.55, 3.0),
    ("open", "B", 0.10, 12.0),
    ("transfer", "C", 0.08, 15.0),
    ("complaint", "D", 0.05, 10.0),
    ("enquiry", "E", 0.18, 4.0),
];

fn ms(day: Date, minutes: f64, tz: &TimeZone) -> i64 {
    let start = day
        .to_zoned(tz.clone())
        .expect("a valid day")
        .timestamp()
        .as_millisecond();
    start + (minutes * 60_000.0) as i64
}

fn generate(db: &std::path::Path, args: &Args) -> anyhow::Result<(Date, Date)> {
    let conn = queue_server::store::schema::open_writer(db)?;
    let tz = TimeZone::get("Asia/Shanghai")?;
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let last = jiff::Zoned::now()
        .with_time_zone(tz.clone())
        .date()
        .yesterday()?;
    let mut days = Vec::new();
    let mut d = last;
    while days.len() < args.days as usize {
        if d.weekday() != jiff::civil::Weekday::Sunday {
            days.push(d);
        }
        d = d.yesterday()?;
    }
    days.reverse();
    let per_day = f64::from(args.tickets) / days.len() as f64;
    let tx = conn.unchecked_transaction()?;
    let mut event_id: i64 = 0;
    {
        let mut ticket = tx.prepare(
            "INSERT INTO tickets (number, service, business_day, status, rank_class, issued_at, created_at, \
             called_at, started_at, ended_at, counter, channel, tracking_code) \
             VALUES (?1, ?2, ?3, ?4, 1, ?5, ?5, ?6, ?7, ?8, ?9, 'kiosk', ?10)",
        )?;
        let mut event = tx.prepare(
            "INSERT INTO events (id, at, business_day, kind, counter, body) VALUES (?1, ?2, ?3, ?4, ?5, '{}')",
        )?;
        for day in &days {
            let name = day.to_string();
            let mut numbers = [0u32; 6];
            // Saturdays are quieter; some days busier than others.
            let weight = if day.weekday() == jiff::civil::Weekday::Saturday {
                0.6
            } else {
                1.08
            };
            let today = (per_day * weight * (0.85 + 0.3 * rng.unit())).round() as u32;
            for counter in 1..=5u32 {
                for (at, kind) in [
                    (8.5 * 60.0, "counter.opened"),
                    (17.25 * 60.0, "counter.closed"),
                ] {
                    event_id += 1;
                    event.execute(params![event_id, ms(*day, at, &tz), name, kind, counter])?;
                }
            }
            for _ in 0..today {
                let pick = rng.unit();
                let (mut acc, mut which) = (0.0, 0);
                for (i, s) in SERVICES.iter().enumerate() {
                    acc += s.2;
                    if pick <= acc {
                        which = i;
                        break;
                    }
                }
                let (service, prefix, _, mean_service) = SERVICES[which];
                let hour_pick = rng.unit();
                let (mut acc, mut hour) = (0.0, 9u8);
                for (h, share) in HOURLY_SHARE {
                    acc += share;
                    if hour_pick <= acc {
                        hour = h;
                        break;
                    }
                }
                let minute = f64::from(hour) * 60.0
                    + if hour == 8 {
                        30.0 + rng.unit() * 30.0
                    } else {
                        rng.unit() * 60.0
                    };
                // Peaks wait longer.
                let busy = HOURLY_SHARE
                    .iter()
                    .find(|(h, _)| *h == hour)
                    .map_or(0.1, |(_, s)| *s);
                let wait = rng.exp(2.0 + busy * 60.0);
                let service_min = rng.exp(mean_service).max(0.3);
                numbers[which] += 1;
                let number = format!("{prefix}{:03}", numbers[which]);
                let issued = ms(*day, minute, &tz);
                let called = issued + (wait * 60_000.0) as i64;
                let fate = rng.unit();
                let counter = 1 + (rng.next() % 5) as u32;
                let code = format!("{:016x}", rng.next());
                let (status, called, started, ended, counter) = if fate < 0.02 {
                    ("cancelled", None, None, Some(called), None)
                } else if fate < 0.05 {
                    (
                        "no_show",
                        Some(called),
                        None,
                        Some(called + 120_000),
                        Some(counter),
                    )
                } else {
                    let start = called + 30_000;
                    (
                        "done",
                        Some(called),
                        Some(start),
                        Some(start + (service_min * 60_000.0) as i64),
                        Some(counter),
                    )
                };
                ticket.execute(params![
                    number, service, name, status, issued, called, started, ended, counter, code
                ])?;
            }
        }
    }
    tx.commit()?;
    Ok((days[0], last))
}

fn rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmRSS:"))
                .and_then(|v| v.trim().trim_end_matches(" kB").trim().parse().ok())
        })
        .unwrap_or(0)
}

async fn timed(http: &reqwest::Client, url: &str, repeat: usize) -> anyhow::Result<(f64, usize)> {
    let mut times = Vec::new();
    let mut size = 0;
    for _ in 0..repeat {
        let started = Instant::now();
        let resp = http.get(url).bearer_auth("demo-manager").send().await?;
        anyhow::ensure!(resp.status().is_success(), "{url}: {}", resp.status());
        size = resp.bytes().await?.len();
        times.push(started.elapsed().as_secs_f64() * 1000.0);
    }
    times.sort_by(f64::total_cmp);
    Ok((times[times.len() / 2], size))
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let dir = tempfile_dir()?;
    let db = dir.join("hall.db");
    let started = Instant::now();
    let (first, last) = generate(&db, &args)?;
    let tickets: i64 =
        rusqlite::Connection::open(&db)?
            .query_row("SELECT COUNT(*) FROM tickets", [], |r| r.get(0))?;
    println!(
        "history: {tickets} tickets over {} business days ({first} to {last}), written in {:.1} s, {:.0} MB",
        args.days,
        started.elapsed().as_secs_f64(),
        std::fs::metadata(&db)?.len() as f64 / 1e6
    );

    let server = args.server.clone().unwrap_or_else(|| {
        std::env::current_exe()
            .expect("this program's path")
            .with_file_name("queue-server")
    });
    let port = std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port();
    let base = format!("http://127.0.0.1:{port}");
    let mut child: Child = Command::new(&server)
        .arg("--db")
        .arg(&db)
        .arg("--listen")
        .arg(format!("127.0.0.1:{port}"))
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()?;
    let http = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(20);
    while http.get(format!("{base}/healthz")).send().await.is_err() {
        anyhow::ensure!(Instant::now() < deadline, "the server did not start");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    let pid = child.id();
    let rss_start = rss_kib(pid);

    let day = last;
    let month_first = last.checked_sub(jiff::Span::new().days(29))?;
    let (day_ms, _) = timed(
        &http,
        &format!("{base}/api/v1/reports?from={day}&to={day}"),
        args.repeat,
    )
    .await?;
    let (month_ms, _) = timed(
        &http,
        &format!("{base}/api/v1/reports?from={month_first}&to={last}"),
        args.repeat,
    )
    .await?;
    let rss_month = rss_kib(pid);
    let (year_ms, _) = timed(
        &http,
        &format!("{base}/api/v1/reports?from={first}&to={last}"),
        args.repeat,
    )
    .await?;
    let rss_year = rss_kib(pid);
    let (book_ms, book_bytes) = timed(
        &http,
        &format!("{base}/api/v1/reports/export?from={first}&to={last}&format=xlsx"),
        args.repeat,
    )
    .await?;
    let rss_peak = rss_kib(pid);

    // The console's first view: the page and its assets, then the
    // snapshot, today's figures, devices and webhooks, as manager.js asks.
    let mut first_view = Vec::new();
    for _ in 0..args.repeat {
        let started = Instant::now();
        for path in [
            "/manager",
            "/assets/manager.css",
            "/assets/chart.umd.min.js",
            "/assets/manager.js",
        ] {
            http.get(format!("{base}{path}"))
                .send()
                .await?
                .bytes()
                .await?;
        }
        let urls =
            ["hall", "stats/day", "devices", "webhooks"].map(|p| format!("{base}/api/v1/{p}"));
        let (a, b, c, d) = tokio::join!(
            timed(&http, &urls[0], 1),
            timed(&http, &urls[1], 1),
            timed(&http, &urls[2], 1),
            timed(&http, &urls[3], 1),
        );
        a?;
        b?;
        c?;
        d?;
        first_view.push(started.elapsed().as_secs_f64() * 1000.0);
    }
    first_view.sort_by(f64::total_cmp);
    tokio::time::sleep(Duration::from_secs(5)).await;
    let rss_rest = rss_kib(pid);
    let _ = child.kill();
    let _ = child.wait();
    let _ = std::fs::remove_dir_all(&dir);

    println!(
        "a day's report ({day}):            {day_ms:7.1} ms (median of {})",
        args.repeat
    );
    println!("30 days' report ({month_first} on):   {month_ms:7.1} ms");
    println!("the year's report:                  {year_ms:7.1} ms");
    println!(
        "the year's workbook:                {book_ms:7.1} ms ({:.0} KB)",
        book_bytes as f64 / 1e3
    );
    println!(
        "the console's first view (HTTP):    {:7.1} ms",
        first_view[first_view.len() / 2]
    );
    println!(
        "server RSS: {:.1} MB at start, {:.1} MB after 30 days' reports, {:.1} MB after the year's, \
         {:.1} MB after the workbooks, {:.1} MB at rest 5 s later",
        rss_start as f64 / 1024.0,
        rss_month as f64 / 1024.0,
        rss_year as f64 / 1024.0,
        rss_peak as f64 / 1024.0,
        rss_rest as f64 / 1024.0
    );
    Ok(())
}

/// A fresh directory under the system's temporary directory.
fn tempfile_dir() -> anyhow::Result<PathBuf> {
    let dir = std::env::temp_dir().join(format!("report-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}
