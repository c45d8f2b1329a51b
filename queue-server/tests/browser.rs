//! The counter station and the public ticket page in a real browser
//! (headless chromium over WebDriver), against a real server.

use hall_api::{DeviceHealth, Heartbeat, IssueTicket, PrinterState, TicketStatus};
use hall_testkit::browser::Browser;
use hall_testkit::{ServerOptions, ServerProcess, demo, eventually};

const BIN: &str = env!("CARGO_BIN_EXE_queue-server");

/// Waits until the page's current ticket is `number` ("" for none).
async fn current_is(b: &Browser, number: &str) {
    b.wait_attr("#current-number", "data-number", number).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn staff_work_a_counter_from_the_page() {
    let server = ServerProcess::start(BIN, ServerOptions::default()).await;
    let manager = server.client(demo::MANAGER);
    let kiosk = server.client(demo::KIOSK);
    manager.set_pin(1, "2468").await.unwrap();
    let b = Browser::start(1024, 600, "en-US").await;
    b.goto(&format!("{}/counter", server.base_url())).await;

    // A wrong PIN is refused, and says so.
    b.type_into("#signin-counter", "1").await;
    b.type_into("#signin-secret", "1111").await;
    b.click("#signin-button").await;
    b.wait_text("#signin-error", "the refusal", |t| t.contains("wrong PIN"))
        .await;
    b.type_into("#signin-secret", "2468").await;
    b.click("#signin-button").await;
    b.wait_text("#counter-state", "open", |t| t == "Open").await;

    // Tickets taken at the kiosk appear without a reload.
    let a1 = kiosk
        .issue_ticket(&IssueTicket {
            customer_ref: Some("8800123456".into()),
            ..IssueTicket::new("pay", "a1")
        })
        .await
        .unwrap()
        .0;
    let a2 = kiosk
        .issue_ticket(&IssueTicket::new("pay", "a2"))
        .await
        .unwrap()
        .0;
    b.wait_for("#queue-list li[data-number='A002']").await;

    // Call next with a click; start with the S key; complete with a click.
    b.click("#btn-call-next").await;
    current_is(&b, "A001").await;
    b.wait_text("#current-account", "the account number", |t| {
        t.contains("8800123456")
    })
    .await;
    b.press('s').await;
    b.wait_text("#current-status", "serving", |t| t.contains("serving"))
        .await;
    b.screenshot("counter-1024x600-en").await;
    b.click("#btn-complete").await;
    current_is(&b, "").await;
    assert_eq!(
        manager.ticket(a1.id).await.unwrap().status,
        TicketStatus::Done
    );

    // Transfer to another service.
    b.press('n').await;
    current_is(&b, "A002").await;
    b.click("#btn-start").await;
    b.wait_text("#current-status", "serving", |t| t.contains("serving"))
        .await;
    b.find("#transfer-service")
        .await
        .select_by_value("open")
        .await
        .unwrap();
    b.click("#btn-transfer").await;
    current_is(&b, "").await;
    let moved = manager.ticket(a2.id).await.unwrap();
    assert_eq!(moved.status, TicketStatus::Transferred);

    // Another counter's action shows up live here.
    let taken = manager.call_next(4).await.unwrap().unwrap();
    assert_eq!(taken.number, "A002");
    b.wait_text(
        "#hall-counters li[data-counter='4']",
        "A002 at counter 4",
        |t| t.contains("A002"),
    )
    .await;

    // Nobody waiting: the page says so instead of failing.
    b.click("#btn-call-next").await;
    b.wait_text("#message", "nobody waits", |t| {
        t.contains("Nobody is waiting")
    })
    .await;

    // Pause with P, then a reason by its number: call-next is disabled until resumed.
    b.press('p').await;
    b.wait_for("#pause-reasons button[data-reason='meal']")
        .await;
    b.press('2').await;
    b.wait_text("#counter-state", "paused", |t| t == "Paused · Meal")
        .await;
    assert!(!b.find("#btn-call-next").await.is_enabled().await.unwrap());
    b.press('p').await;
    b.wait_text("#counter-state", "open", |t| t == "Open").await;

    // A kiosk whose printer ran out of paper: the page tells staff.
    kiosk
        .heartbeat(&Heartbeat {
            health: DeviceHealth::Fault,
            printer: Some(PrinterState::PaperOut),
            message: Some("printer out of paper: load a new roll".into()),
            interval_s: 15,
            version: None,
        })
        .await
        .unwrap();
    b.wait_text("#device-alerts", "the kiosk's fault", |t| {
        t == "kiosk-1: printer out of paper: load a new roll"
    })
    .await;

    // Chinese, and the same page on a phone.
    kiosk
        .issue_ticket(&IssueTicket::new("vip", "v1"))
        .await
        .unwrap();
    b.press('n').await;
    current_is(&b, "V001").await;
    b.click("#lang-toggle").await;
    b.wait_text("#btn-call-next", "Chinese", |t| t.contains("叫下一位"))
        .await;
    b.wait_text("#device-alerts", "the fault in Chinese", |t| {
        t == "kiosk-1: 打印机缺纸，请装新纸卷"
    })
    .await;
    b.screenshot("counter-1024x600-zh").await;
    b.set_viewport(390, 844).await;
    b.screenshot("counter-phone-zh").await;
    b.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_member_of_staff_signs_in_pauses_for_a_reason_and_holds_a_customer() {
    let server = ServerProcess::start(BIN, ServerOptions::default()).await;
    let manager = server.client(demo::MANAGER);
    let kiosk = server.client(demo::KIOSK);
    manager
        .add_staff(&hall_api::NewStaff {
            number: "1024".into(),
            name: "张三".into(),
            pin: "2468".into(),
        })
        .await
        .unwrap();
    let b = Browser::start(1024, 600, "zh-CN").await;
    b.goto(&format!("{}/counter", server.base_url())).await;
    b.type_into("#signin-counter", "3").await;
    b.type_into("#signin-staff", "1024").await;
    b.type_into("#signin-secret", "1111").await;
    b.click("#signin-button").await;
    b.wait_text("#signin-error", "the refusal", |t| {
        t.contains("wrong staff number or PIN")
    })
    .await;
    b.type_into("#signin-secret", "2468").await;
    b.click("#signin-button").await;
    b.wait_text("#title", "who is signed in", |t| {
        t.ends_with("3号窗口 · 张三 (1024)")
    })
    .await;
    let at = manager.hall().await.unwrap().counters[2].staff.clone();
    assert_eq!(at.map(|s| s.number), Some("1024".into()));

    // Serve one, hold them (挂起), serve the next, resume the first by its button.
    for key in ["h1", "h2"] {
        kiosk
            .issue_ticket(&IssueTicket::new("open", key))
            .await
            .unwrap();
    }
    b.wait_for("#queue-list li[data-number='B002']").await;
    b.click("#btn-call-next").await;
    current_is(&b, "B001").await;
    assert!(
        !b.find("#btn-hold").await.is_enabled().await.unwrap(),
        "called, not served yet"
    );
    b.press('s').await;
    b.wait_text("#current-status", "serving", |t| t.contains("办理中"))
        .await;
    b.press('h').await;
    current_is(&b, "").await;
    b.wait_for("#held-list li[data-number='B001']").await;
    b.press('n').await;
    current_is(&b, "B002").await;
    assert!(
        !b.find("#held-list li[data-number='B001'] button")
            .await
            .is_enabled()
            .await
            .unwrap(),
        "busy with B002: the held one waits"
    );
    b.press('s').await;
    b.wait_text("#current-status", "serving", |t| t.contains("办理中"))
        .await;
    b.screenshot("counter-1024x600-zh-held").await;
    b.press('c').await;
    current_is(&b, "").await;
    let resume = b.find("#held-list li[data-number='B001'] button").await;
    eventually("the resume button enabled", || async {
        resume.is_enabled().await.unwrap()
    })
    .await;
    resume.click().await.unwrap();
    current_is(&b, "B001").await;
    b.wait_text("#current-status", "serving again", |t| t.contains("办理中"))
        .await;
    b.press('c').await;
    current_is(&b, "").await;
    let served = manager.ticket(1).await.unwrap();
    assert_eq!(
        (served.status, served.staff.map(|s| s.name)),
        (TicketStatus::Done, Some("张三".into()))
    );

    // Pause for a reason, clicked: the state is shown large, in both languages.
    b.click("#btn-pause").await;
    b.wait_for("#pause-reasons button[data-reason='training']")
        .await;
    b.screenshot("counter-1024x600-zh-reasons").await;
    b.click("#pause-reasons button[data-reason='training']")
        .await;
    b.wait_text("#state-banner-zh", "the paused sign", |t| {
        t == "暂停服务 · 培训"
    })
    .await;
    assert_eq!(b.text("#state-banner-en").await, "Paused · Training");
    let c3 = &manager.hall().await.unwrap().counters[2];
    assert_eq!(c3.pause_reason.as_deref(), Some("training"));
    b.screenshot("counter-1024x600-zh-paused").await;
    b.click("#lang-toggle").await;
    b.wait_text("#counter-state", "English", |t| t == "Paused · Training")
        .await;
    b.screenshot("counter-1024x600-en-paused").await;
    b.press('p').await;
    b.wait_text("#counter-state", "open", |t| t == "Open").await;
    assert!(
        b.find("#state-banner")
            .await
            .attr("class")
            .await
            .unwrap()
            .unwrap()
            .contains("hidden")
    );

    // Signing out ends the attendance on the server.
    b.click("#sign-out").await;
    b.wait_for("#signin-button").await;
    eventually("the member of staff signed out", || async {
        manager.hall().await.unwrap().counters[2].staff.is_none()
    })
    .await;
    b.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_customer_follows_the_ticket_on_a_phone() {
    let server = ServerProcess::start(BIN, ServerOptions::default()).await;
    let kiosk = server.client(demo::KIOSK);
    kiosk
        .issue_ticket(&IssueTicket::new("pay", "before"))
        .await
        .unwrap();
    let mine = kiosk
        .issue_ticket(&IssueTicket::new("pay", "mine"))
        .await
        .unwrap()
        .0;
    let b = Browser::start(390, 844, "zh-CN").await;
    b.goto(&format!("{}/t/{}", server.base_url(), mine.tracking_code))
        .await;
    b.wait_text("#number", "the number", |t| t == "A002").await;
    b.wait_text("#ahead", "one ahead", |t| t.contains('1'))
        .await;
    b.wait_text("#status", "waiting", |t| t.contains("等候"))
        .await;
    b.screenshot("ticket-phone-zh-waiting").await;
    // Called at counter 2: the page tells the customer where to go, by itself.
    let m = server.client(demo::MANAGER);
    m.call_next(1).await.unwrap();
    m.call_next(2).await.unwrap();
    b.wait_text("#status", "the counter", |t| t.contains("2号窗口"))
        .await;
    b.click("#lang-toggle").await;
    b.wait_text("#status", "English", |t| {
        t.contains("Please go to Counter 2")
    })
    .await;
    b.screenshot("ticket-phone-en-called").await;
    // A wrong code says so.
    b.goto(&format!(
        "{}/t/0123456789abcdef0123456789abcdef",
        server.base_url()
    ))
    .await;
    b.wait_text("#status", "not found", |t| {
        t.contains("No ticket has this code")
    })
    .await;
    // A service that needs papers says which, while the customer waits.
    let owner = kiosk
        .issue_ticket(&IssueTicket::new("transfer", "owner"))
        .await
        .unwrap()
        .0;
    b.goto(&format!("{}/t/{}", server.base_url(), owner.tracking_code))
        .await;
    b.wait_text("#bring", "the papers", |t| {
        t == "Please bring: Both owners' ID cards, the deed, proof that arrears are paid"
    })
    .await;
    b.screenshot("ticket-phone-en-bring").await;
    b.click("#lang-toggle").await;
    b.wait_text("#bring", "the papers in Chinese", |t| {
        t == "请携带：新旧户主身份证，房产证，欠费结清凭证"
    })
    .await;
    b.screenshot("ticket-phone-zh-bring").await;
    b.close().await;
}

/// Waits until the rater page shows `screen` (idle, ask, thanks, setup).
async fn rater_shows(b: &Browser, screen: &str) {
    b.wait_attr("body", "data-screen", screen).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_rater_wakes_when_the_counter_completes_and_a_touch_rates_it() {
    use hall_api::RatingLevel;
    let server = ServerProcess::start(BIN, ServerOptions::default()).await;
    let manager = server.client(demo::MANAGER);
    let kiosk = server.client(demo::KIOSK);
    manager
        .add_staff(&hall_api::NewStaff {
            number: "1024".into(),
            name: "张三".into(),
            pin: "2468".into(),
        })
        .await
        .unwrap();
    for key in ["r1", "r2"] {
        kiosk
            .issue_ticket(&IssueTicket::new("pay", key))
            .await
            .unwrap();
    }

    // The rater facing the customer at counter 2, a 7-inch tablet.
    let rater = Browser::start(1024, 600, "zh-CN").await;
    rater.goto(&format!("{}/rate/2", server.base_url())).await;
    rater_shows(&rater, "setup").await;
    rater.type_into("#setup-token", &demo::rater(3)).await;
    rater.click("#setup-button").await;
    rater
        .wait_text("#setup-error", "another counter's token refused", |t| {
            t.contains("not counter 2's rater")
        })
        .await;
    rater.type_into("#setup-token", &demo::rater(2)).await;
    rater.click("#setup-button").await;
    rater_shows(&rater, "idle").await;
    // It reports itself, so the manager sees a rater that goes silent.
    eventually("a heartbeat from the rater", || async {
        manager
            .devices()
            .await
            .unwrap()
            .iter()
            .any(|d| d.name == "rater-2" && d.reachable && d.last.is_some())
    })
    .await;

    // The counter page: a member of staff serves A001 and completes it.
    let counter = Browser::start(1024, 600, "zh-CN").await;
    counter
        .goto(&format!("{}/counter", server.base_url()))
        .await;
    counter.type_into("#signin-counter", "2").await;
    counter.type_into("#signin-staff", "1024").await;
    counter.type_into("#signin-secret", "2468").await;
    counter.click("#signin-button").await;
    rater
        .wait_text("#idle-staff", "who serves", |t| t.contains("张三 (1024)"))
        .await;
    rater.screenshot("rater-1024x600-idle").await;
    counter.press('n').await;
    current_is(&counter, "A001").await;
    counter.press('s').await;
    counter
        .wait_text("#current-status", "serving", |t| t.contains("办理中"))
        .await;
    counter.press('c').await;
    current_is(&counter, "").await;

    // The rater wakes and asks; a touch of 满意 rates it.
    rater_shows(&rater, "ask").await;
    assert_eq!(rater.text("#ask-ticket").await, "A001");
    rater.screenshot("rater-1024x600-ask").await;
    rater.click("#levels button[data-level='satisfied']").await;
    rater_shows(&rater, "thanks").await;
    rater.screenshot("rater-1024x600-thanks").await;
    let today = manager.health().await.unwrap().business_day;
    let stats = manager.day_stats(today).await.unwrap();
    let r = &stats.hall.ratings;
    assert_eq!(
        (r.rated, r.coverage, r.satisfaction_rate),
        (1, Some(1.0), Some(1.0))
    );
    assert_eq!(stats.staff[0].ratings.rated, 1);

    // The next: 非常不满意 asks why; the reasons go with it.
    counter.press('n').await;
    current_is(&counter, "A002").await;
    rater_shows(&rater, "idle").await;
    counter.press('s').await;
    counter
        .wait_text("#current-status", "serving", |t| t.contains("办理中"))
        .await;
    counter.press('c').await;
    rater_shows(&rater, "ask").await;
    rater
        .click("#levels button[data-level='very_dissatisfied']")
        .await;
    rater
        .wait_for("#reasons button[data-reason='waited_too_long']")
        .await;
    rater
        .click("#reasons button[data-reason='waited_too_long']")
        .await;
    rater.click("#reasons button[data-reason='slow']").await;
    rater.screenshot("rater-1024x600-reasons").await;
    rater.click("#send-bad").await;
    rater_shows(&rater, "thanks").await;
    let low = manager.day_stats(today).await.unwrap().low_rated;
    assert_eq!(
        low.iter()
            .map(|r| (r.number.as_str(), r.level, r.reasons.join(",")))
            .collect::<Vec<_>>(),
        [(
            "A002",
            RatingLevel::VeryDissatisfied,
            "waited_too_long,slow".into()
        )]
    );
    assert_eq!(manager.follow_ups(false).await.unwrap().len(), 1);

    // Portrait, as some raters stand.
    rater.set_viewport(600, 1024).await;
    rater.screenshot("rater-600x1024-thanks").await;
    rater.close().await;
    counter.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_customer_rates_the_service_on_the_phone_once() {
    let server = ServerProcess::start(BIN, ServerOptions::default()).await;
    let kiosk = server.client(demo::KIOSK);
    let m = server.client(demo::MANAGER);
    let mine = kiosk
        .issue_ticket(&IssueTicket::new("pay", "phone"))
        .await
        .unwrap()
        .0;
    let b = Browser::start(390, 844, "en-US").await;
    b.goto(&format!("{}/t/{}", server.base_url(), mine.tracking_code))
        .await;
    b.wait_text("#status", "waiting", |t| t == "Waiting").await;
    assert!(
        b.find("#rate")
            .await
            .attr("class")
            .await
            .unwrap()
            .unwrap()
            .contains("hidden")
    );
    m.call_next(1).await.unwrap();
    for action in [
        hall_api::CounterAction::Start,
        hall_api::CounterAction::Complete,
    ] {
        m.counter_action(1, action, &hall_api::CounterActionBody::default())
            .await
            .unwrap();
    }
    b.wait_for("#rate-levels button[data-level='dissatisfied']")
        .await;
    b.wait_text("#rate-title", "the question", |t| {
        t == "Please rate this service"
    })
    .await;
    b.click("#rate-levels button[data-level='dissatisfied']")
        .await;
    b.click("#rate-reasons button[data-reason='unclear']").await;
    b.screenshot("ticket-phone-en-rate").await;
    b.click("#rate-send").await;
    b.wait_text("#rated", "the thanks", |t| {
        t == "Thank you for rating: Dissatisfied"
    })
    .await;
    assert!(
        b.find("#rate")
            .await
            .attr("class")
            .await
            .unwrap()
            .unwrap()
            .contains("hidden")
    );
    b.click("#lang-toggle").await;
    b.wait_text("#rated", "Chinese", |t| t == "感谢您的评价：不满意")
        .await;
    b.screenshot("ticket-phone-zh-rated").await;
    let today = m.health().await.unwrap().business_day;
    let ratings = m.ratings(today).await.unwrap();
    assert_eq!(ratings.len(), 1);
    assert_eq!(
        (ratings[0].channel, ratings[0].reasons.clone()),
        (hall_api::RatingChannel::Phone, vec!["unclear".to_string()])
    );
    b.close().await;
}

/// The counter sees why a customer was called first and what the billing
/// system says they owe; with the billing system gone it says so and serves
/// them the same.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_counter_sees_arrears_and_why_a_key_account_went_first() {
    use hall_testkit::billing::{BillingSim, linked_hall};
    let sim = BillingSim::start(
        &hall_testkit::workspace_bin("billing-sim"),
        hall_testkit::free_port(),
    )
    .await;
    let server = ServerProcess::start(
        BIN,
        ServerOptions {
            config: Some(linked_hall(sim.port)),
            ..Default::default()
        },
    )
    .await;
    let kiosk = server.client(demo::KIOSK);
    let with_account = |key: &str, account: &str| IssueTicket {
        customer_ref: Some(account.into()),
        ..IssueTicket::new("pay", key)
    };
    kiosk
        .issue_ticket(&with_account("a1", "8800123456"))
        .await
        .unwrap();
    let key = kiosk
        .issue_ticket(&with_account("a2", "8800900900"))
        .await
        .unwrap()
        .0;
    server
        .client(demo::MANAGER)
        .set_pin(2, "2468")
        .await
        .unwrap();
    let b = Browser::start(1024, 600, "en-US").await;
    b.goto(&format!("{}/counter", server.base_url())).await;
    b.type_into("#signin-counter", "2").await;
    b.type_into("#signin-secret", "2468").await;
    b.click("#signin-button").await;
    b.wait_text(
        &format!("#queue-list li[data-number='{}'] .priority", key.number),
        "the key account marked in the list",
        |t| t == "Key account",
    )
    .await;
    b.click("#btn-call-next").await;
    current_is(&b, &key.number).await;
    b.wait_text("#current-priority", "why first", |t| {
        t == "First because: Key account"
    })
    .await;
    b.wait_text("#current-arrears", "the amount due", |t| {
        t == "城东*业公司 · Amount due ¥12500.00 · Key account"
    })
    .await;
    b.screenshot("counter-1024x600-en-key-account").await;
    b.click("#btn-start").await;
    b.click("#btn-complete").await;
    current_is(&b, "").await;
    b.press('n').await;
    current_is(&b, "A001").await;
    b.wait_text("#current-arrears", "the amount due", |t| {
        t == "张*明 · Amount due ¥128.50"
    })
    .await;
    b.click("#lang-toggle").await;
    b.wait_text("#current-arrears", "Chinese", |t| {
        t == "张*明 · 待缴 ¥128.50"
    })
    .await;
    b.screenshot("counter-1024x600-zh-arrears").await;
    b.click("#btn-start").await;
    b.click("#btn-complete").await;
    current_is(&b, "").await;

    // The billing system gone: the ticket is issued and called as any, and
    // the counter is told the arrears were not checked.
    drop(sim);
    kiosk
        .issue_ticket(&with_account("a3", "8800777001"))
        .await
        .unwrap();
    b.press('n').await;
    current_is(&b, "A003").await;
    b.wait_text("#current-arrears", "the billing system silent", |t| {
        t.contains("计费系统未应答")
    })
    .await;
    b.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_customer_takes_a_number_on_the_phone_and_checks_in_at_the_hall() {
    let server = ServerProcess::start(BIN, ServerOptions::default()).await;
    let kiosk = server.client(demo::KIOSK);
    let b = Browser::start(390, 844, "zh-CN").await;
    b.goto(&format!("{}/take", server.base_url())).await;
    b.wait_text("#services", "the services", |t| t.contains("缴费"))
        .await;
    b.wait_text("#how", "how to check in", |t| t.contains("60 分钟"))
        .await;
    b.screenshot("take-phone-zh").await;
    b.click("button[data-service=pay]").await;
    b.wait_text("#status", "on the way", |t| t == "请到厅签到")
        .await;
    let code = b
        .wait_text("#arrival-code", "the check-in code", |t| {
            t.len() == 6 && t.chars().all(|c| c.is_ascii_digit())
        })
        .await;
    b.screenshot("ticket-phone-zh-remote").await;
    b.click("#lang-toggle").await;
    b.wait_text("#arrival-text", "English", |t| {
        t.starts_with("Check in at the hall by")
    })
    .await;
    b.screenshot("ticket-phone-en-remote").await;
    let first_number = b.text("#number").await;

    // The QR at the entrance: the phone checks in the number it took.
    b.goto(&format!("{}/here/demo-entrance-qr", server.base_url()))
        .await;
    b.wait_text("#arrival-text", "checked in", |t| {
        t.starts_with("Checked in at")
    })
    .await;
    assert_eq!(b.text("#number").await, first_number);
    assert_eq!(b.text("#arrival-code").await, "", "no code once checked in");
    b.screenshot("ticket-phone-en-checked-in").await;
    // The code shown was this ticket's: the kiosk finds it (already in).
    let at_kiosk = kiosk.check_in(&code).await.unwrap();
    assert_eq!(at_kiosk.number, first_number);

    // A second number, checked in at a kiosk by the code on the page.
    b.goto(&format!("{}/take", server.base_url())).await;
    b.click("button[data-service=enquiry]").await;
    let second = b
        .wait_text("#arrival-code", "the second code", |t| t.len() == 6)
        .await;
    let number = b.text("#number").await;
    assert_eq!(kiosk.check_in(&second).await.unwrap().number, number);
    b.wait_text("#arrival-text", "checked in at the kiosk", |t| {
        t.starts_with("Checked in at")
    })
    .await;

    // A third from the same phone is refused, and the page says why.
    b.goto(&format!("{}/take", server.base_url())).await;
    b.click("button[data-service=pay]").await;
    b.wait_text("#message", "the limit", |t| t.contains("as many numbers"))
        .await;
    b.screenshot("take-phone-en-limit").await;
    b.close().await;
}

/// The phone page during the lunch break and during a closure the manager
/// set, against a real server whose clock libfaketime moves, in both
/// languages: the customer reads why and when service goes on.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_phone_page_says_lunch_break_and_closure_and_when_service_goes_on() {
    let files = tempfile::tempdir().unwrap();
    let holidays = files.path().join("holidays.toml");
    std::fs::write(&holidays, "").unwrap();
    // Monday 2027-03-01, 11:50 in the hall.
    let mut server = ServerProcess::start(
        BIN,
        ServerOptions {
            config: Some(hall_testkit::lunch_break_hall(&holidays)),
            faketime: Some("@2027-03-01 03:50:00".into()),
            ..Default::default()
        },
    )
    .await;
    let mine = server
        .client("kiosk-token")
        .issue_ticket(&IssueTicket::new("pay", "before-lunch"))
        .await
        .unwrap()
        .0;
    let page = |s: &ServerProcess| format!("{}/t/{}", s.base_url(), mine.tracking_code);
    server.restart_with_faketime("@2027-03-01 04:10:00").await; // 12:10
    let b = Browser::start(390, 844, "zh-CN").await;
    b.goto(&page(&server)).await;
    b.wait_text("#closed", "the lunch break", |t| {
        t.starts_with("午休暂停") && t.contains("13:30")
    })
    .await;
    b.screenshot("ticket-phone-zh-lunch-break").await;
    b.click("#lang-toggle").await;
    b.wait_text("#closed", "the lunch break in English", |t| {
        t.starts_with("Lunch break: service goes on at") && t.contains("13:30")
    })
    .await;
    b.screenshot("ticket-phone-en-lunch-break").await;
    b.goto(&format!("{}/take", server.base_url())).await;
    b.wait_text("#services", "the service on its break", |t| {
        t.contains("lunch break") && t.contains("13:30")
    })
    .await;
    assert!(
        b.find("button[data-service=pay]")
            .await
            .attr("disabled")
            .await
            .unwrap()
            .is_some(),
        "no ticket during the break"
    );
    b.screenshot("take-phone-en-lunch-break").await;

    // A power cut 14:00–15:00, set by the manager; at 14:10 the page says so.
    let closure = serde_json::json!({
        "from": "2027-03-01T06:00:00Z",
        "until": "2027-03-01T07:00:00Z",
        "reason": { "zh": "停电", "en": "Power cut" },
    });
    let made = reqwest::Client::new()
        .post(format!("{}/api/v1/closures", server.base_url()))
        .bearer_auth("manager-token")
        .json(&closure)
        .send()
        .await
        .unwrap();
    assert_eq!(made.status(), 201);
    server.restart_with_faketime("@2027-03-01 06:10:00").await;
    b.goto(&page(&server)).await;
    b.wait_text("#closed", "the closure", |t| {
        t.starts_with("Closed: Power cut; opens again") && t.contains("15:00")
    })
    .await;
    b.screenshot("ticket-phone-en-closure").await;
    b.click("#lang-toggle").await;
    b.wait_text("#closed", "the closure in Chinese", |t| {
        t.starts_with("暂停办理：停电") && t.contains("15:00 恢复")
    })
    .await;
    b.screenshot("ticket-phone-zh-closure").await;
    b.close().await;
}

/// The booking page on a phone: a service, today, the 10:00 slot; the
/// booking's page shows the six-digit code and a QR code that reads as the
/// same digits (a kiosk's scanner types them); changed to 10:30 it keeps
/// its code; cancelled, it says so and the place is free again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_customer_books_sees_the_code_and_qr_and_cancels() {
    let files = tempfile::tempdir().unwrap();
    let holidays = files.path().join("holidays.toml");
    std::fs::write(&holidays, "").unwrap();
    let config = hall_testkit::lunch_break_hall(&holidays).replace(
        "expected_service_min = 20",
        "expected_service_min = 20\nappointments = { slot_min = 30, per_slot = 2 }",
    );
    // Monday 2027-03-01, 08:00 in the hall.
    let server = ServerProcess::start(
        BIN,
        ServerOptions {
            config: Some(config),
            faketime: Some("@2027-03-01 00:00:00".into()),
            ..Default::default()
        },
    )
    .await;
    let b = Browser::start(390, 844, "zh-CN").await;
    b.goto(&format!("{}/book", server.base_url())).await;
    b.wait_for("#services button[data-value=pay]").await;
    b.click("#services button[data-value=pay]").await;
    let ten = "2027-03-01T02:00:00Z";
    b.wait_for(&format!("button[data-start='{ten}']")).await;
    b.wait_text("#slots", "the morning's slots", |t| {
        t.contains("08:30")
            && t.contains("10:00")
            && t.contains("剩 2 个名额")
            && !t.contains("12:00")
    })
    .await;
    b.screenshot("book-phone-zh-slots").await;
    b.click(&format!("button[data-start='{ten}']")).await;
    let code = b
        .wait_text("#booked-code", "the code", |t| {
            t.len() == 6 && t.chars().all(|c| c.is_ascii_digit())
        })
        .await;
    b.wait_text("#booked-how", "when to come", |t| {
        t.contains("09:50") && t.contains("10:15")
    })
    .await;
    b.wait_attr("#booked-qr", "alt", &format!("QR {code}"))
        .await;
    // Wait for the picture itself before reading it.
    let mut codes = Vec::new();
    for _ in 0..50 {
        codes = b.qr_codes("#booked-qr").await;
        if !codes.is_empty() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(
        codes,
        std::slice::from_ref(&code),
        "the QR code reads as the six digits"
    );
    b.screenshot("booking-phone-zh").await;
    b.click("#lang-toggle").await;
    b.wait_text("#booked-how", "English", |t| {
        t.starts_with("Come between 09:50 and 10:15")
    })
    .await;
    b.screenshot("booking-phone-en").await;
    let base = server.base_url();
    let free_at = |at: &'static str| {
        let url = format!("{base}/api/v1/public/services/pay/slots");
        async move {
            let slots: Vec<hall_api::Slot> = reqwest::get(url).await.unwrap().json().await.unwrap();
            slots
                .iter()
                .find(|s| s.start == at.parse::<jiff::Timestamp>().unwrap())
                .unwrap()
                .free
        }
    };
    let half_past = "2027-03-01T02:30:00Z";
    assert_eq!(free_at(ten).await, 1);
    // Changed to 10:30: the same code, the place moves with it.
    b.click("#change").await;
    b.click(&format!("#change-slots button[data-start='{half_past}']"))
        .await;
    b.wait_text("#booked-when", "the new time", |t| t.ends_with("10:30"))
        .await;
    assert_eq!(b.text("#booked-code").await, code, "the code stays");
    assert_eq!((free_at(ten).await, free_at(half_past).await), (2, 1));
    b.screenshot("booking-phone-en-changed").await;
    b.click("#cancel").await;
    b.wait_text("#booked-status", "cancelled", |t| t == "Cancelled")
        .await;
    b.screenshot("booking-phone-en-cancelled").await;
    assert_eq!(free_at(half_past).await, 2, "the place is free again");
    b.close().await;
}
