//! Button press to effect, as staff meet it: a headless chromium signed in at
//! counter 1 presses "call next" on the real page; the bench times
//! - press to the ticket.called event at a display-board subscriber, and
//! - press to the webhook's arrival at billing-sim,
//!
//! each from the page's own press (its `performance.mark("press")`, on the
//! shared wall clock, ms resolution) and from the WebDriver click command
//! (which adds chromedriver's dispatch),
//!
//! with queue-server, billing-sim and the browser all on 127.0.0.1.
//!
//! `cargo build --release --workspace --bins && target/release/station-bench`

use std::time::{Duration, Instant, SystemTime};

use hall_api::IssueTicket;
use hall_testkit::billing::{BillingSim, linked_hall};
use hall_testkit::browser::Browser;
use hall_testkit::{ServerOptions, ServerProcess, demo, free_port, workspace_bin};

fn unix_ms() -> f64 {
    SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap()
        .as_secs_f64()
        * 1000.0
}

#[tokio::main]
async fn main() {
    let presses: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(100);
    let sim_port = free_port();
    let sim = BillingSim::start(&workspace_bin("billing-sim"), sim_port).await;
    let server = ServerProcess::start(
        workspace_bin("queue-server"),
        ServerOptions {
            config: Some(linked_hall(sim_port)),
            faketime: None,
            ..Default::default()
        },
    )
    .await;
    let kiosk = server.client(demo::KIOSK);
    server
        .client(demo::MANAGER)
        .set_pin(1, "2468")
        .await
        .expect("setting the PIN");
    let mut board = server
        .client(demo::DISPLAY)
        .events(None)
        .await
        .expect("the event stream");

    let b = Browser::start(1024, 600, "en-US").await;
    b.goto(&format!("{}/counter", server.base_url())).await;
    b.type_into("#signin-counter", "1").await;
    b.type_into("#signin-secret", "2468").await;
    b.click("#signin-button").await;
    b.wait_text("#counter-state", "open", |t| t == "Open").await;

    let mut to_board = Vec::new();
    let mut to_webhook = Vec::new();
    let mut page_to_board = Vec::new();
    let mut page_to_webhook = Vec::new();
    let mut delivered = 0;
    for i in 0..presses {
        let ticket = kiosk
            .issue_ticket(&IssueTicket::new("pay", format!("b{i}")))
            .await
            .expect("issue")
            .0;
        // Let the page show the new ticket first, as it would for a person.
        b.wait_for(&format!("#queue-list li[data-number='{}']", ticket.number))
            .await;
        let pressed = Instant::now();
        let pressed_unix = unix_ms();
        b.click("#btn-call-next").await;
        loop {
            let ev = tokio::time::timeout(Duration::from_secs(5), board.next())
                .await
                .expect("an event within 5 s")
                .expect("the stream is open")
                .expect("an event");
            if ev.kind == hall_api::EventKind::TicketCalled
                && ev.ticket.as_ref().is_some_and(|t| t.id == ticket.id)
            {
                to_board.push(pressed.elapsed().as_secs_f64() * 1000.0);
                break;
            }
        }
        let board_unix = unix_ms();
        // When the page's click handler ran, on the same wall clock.
        let press_unix = b
            .client
            .execute("const m = performance.getEntriesByName('press').pop(); return performance.timeOrigin + m.startTime;", vec![])
            .await
            .expect("the page's press mark")
            .as_f64()
            .expect("a time");
        page_to_board.push(board_unix - press_unix);
        // Each press also closes the previous ticket (a no-show): two hooked events.
        delivered += if i == 0 { 1 } else { 2 };
        let log = sim.wait_for(delivered).await;
        let arrived = log["events"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["kind"] == "ticket.called" && e["ticket"] == ticket.number.as_str())
            .expect("the call reached billing-sim")["first_received_unix_ms"]
            .as_f64()
            .unwrap();
        to_webhook.push(arrived - pressed_unix);
        page_to_webhook.push(arrived - press_unix);
    }
    println!(
        "station bench: {presses} presses of \"call next\" on the counter page (headless chromium, WebDriver click)"
    );
    hall_testkit::measure::report_ms("page press to board event (SSE subscriber)", page_to_board);
    hall_testkit::measure::report_ms("page press to webhook at billing-sim", page_to_webhook);
    hall_testkit::measure::report_ms("WebDriver click command to board event", to_board);
    hall_testkit::measure::report_ms(
        "WebDriver click command to webhook at billing-sim",
        to_webhook,
    );
    b.close().await;
}
