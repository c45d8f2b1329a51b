//! The company demo (`scripts/demo company`): three halls of the demo's
//! shape, nats-server with JetStream and TLS, PostgreSQL and head office,
//! all on this machine's loopback in a temporary directory, with a
//! customer arriving at one of the halls every few seconds and counters
//! calling. Ctrl-C stops everything and removes the directory.

use std::time::Duration;

use hall_api::{CounterAction, CounterActionBody, IssueTicket};
use hall_testkit::office::Company;
use hall_testkit::{ServerOptions, ServerProcess, demo, workspace_bin};

const HALLS: [&str; 3] = ["east-1", "west-2", "north-3"];
const SERVICES: [&str; 4] = ["pay", "open", "enquiry", "vip"];

#[tokio::main]
async fn main() {
    let company = Company::start(&HALLS);
    let demo_toml = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../queue-server/demo.toml"),
    )
    .expect("queue-server/demo.toml");
    let mut halls = Vec::new();
    for h in HALLS {
        halls.push(
            ServerProcess::start(
                workspace_bin("queue-server"),
                ServerOptions {
                    config: Some(company.hall_config(&demo_toml, h)),
                    ..Default::default()
                },
            )
            .await,
        );
    }
    println!("\n  Company demo: three halls, NATS with JetStream (TLS), PostgreSQL, head office\n");
    println!(
        "  Head office:  {}   (sign in as {}, password \"{}\")",
        company.office.base_url(),
        hall_testkit::office::ADMIN.0,
        hall_testkit::office::ADMIN.1
    );
    for (h, p) in HALLS.iter().zip(&halls) {
        println!(
            "  Hall {h:8} {}   (counter station /counter, manager console /manager, token demo-manager)",
            p.base_url()
        );
    }
    println!(
        "  NATS:         {}   PostgreSQL: {}",
        company.nats.url(),
        company.pg.url()
    );
    println!(
        "\n  A customer arrives every 3 s somewhere; counters call and serve. Ctrl-C stops it all.\n"
    );

    let mut n = 0u64;
    let mut tick = tokio::time::interval(Duration::from_secs(3));
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            _ = tokio::signal::ctrl_c() => break,
        }
        n += 1;
        let hall = &halls[(n % 3) as usize];
        let service = SERVICES[(n % 4) as usize];
        if let Err(e) = hall
            .client("demo-kiosk")
            .issue_ticket(&IssueTicket::new(service, format!("demo-{n}")))
            .await
        {
            eprintln!("the kiosk could not issue: {e}");
        }
        // Every other tick a counter finishes and calls the next.
        if n.is_multiple_of(2) {
            let c = 1 + (n / 2 % 3) as u32;
            let counter = hall.client(&demo::counter(c));
            let _ = counter
                .counter_action(c, CounterAction::Complete, &CounterActionBody::default())
                .await;
            if let Ok(Some(_)) = counter.call_next(c).await {
                let _ = counter
                    .counter_action(c, CounterAction::Start, &CounterActionBody::default())
                    .await;
            }
        }
    }
    println!("stopping the halls, head office, PostgreSQL and NATS");
    drop(halls);
    drop(company);
}
