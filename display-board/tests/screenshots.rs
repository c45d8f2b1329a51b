//! The board as the hall sees it, rendered headless to
//! target/screenshots/board-*.png: an idle hall, a fresh call highlighted,
//! a full history, a long service name, counters not serving (暂停服务);
//! landscape and portrait.

use display_board::{BoardWindow, CallRow, StoppedRow, WaitRow};
use hall_testkit::screen::{init_slint, screenshot};
use slint::{ComponentHandle, ModelRc, VecModel};

fn call(number: &str, counter: u32, recall: bool) -> CallRow {
    CallRow {
        number: number.into(),
        counter_zh: format!("{counter}号窗口").into(),
        counter_en: format!("Counter {counter}").into(),
        recall,
    }
}

fn waiting() -> Vec<WaitRow> {
    [
        ("贵宾", "VIP", 0),
        ("缴费", "Payment", 12),
        ("开户", "New account", 3),
        (
            "过户及用户信息变更",
            "Change of owner and customer details",
            1,
        ),
        ("投诉", "Complaint", 0),
        ("咨询", "Enquiry", 5),
    ]
    .into_iter()
    .map(|(zh, en, n)| WaitRow {
        service_zh: zh.into(),
        service_en: en.into(),
        waiting: n,
    })
    .collect()
}

fn set_calls(ui: &BoardWindow, calls: Vec<CallRow>) {
    let history: Vec<CallRow> = calls.iter().skip(1).take(8).cloned().collect();
    ui.set_calls(ModelRc::new(VecModel::from(calls)));
    ui.set_history(ModelRc::new(VecModel::from(history)));
}

#[test]
fn the_board_idle_fresh_full_and_in_portrait() {
    init_slint(false);
    let ui = BoardWindow::new().unwrap();
    ui.show().unwrap();
    ui.set_hall_name("城东营业厅 · East Side Service Hall".into());
    ui.set_date("2026-11-22".into());
    ui.set_clock("09:41".into());
    ui.set_notice("请留意叫号，过号请重新取号 · Listen for your number".into());
    ui.set_waiting(ModelRc::new(VecModel::from(waiting())));

    for (orientation, w, h) in [("landscape", 1920, 1080), ("portrait", 1080, 1920)] {
        ui.window().set_size(slint::PhysicalSize::new(w, h));
        set_calls(&ui, vec![]);
        screenshot(ui.window(), &format!("board-{orientation}-idle"));

        set_calls(&ui, vec![call("A012", 3, false)]);
        ui.set_fresh(true);
        screenshot(ui.window(), &format!("board-{orientation}-fresh-call"));
        ui.set_fresh(false);

        let full: Vec<CallRow> = (0..10)
            .map(|i| call(&format!("A{:03}", 20 - i), (i % 5) + 1, i == 0))
            .collect();
        set_calls(&ui, full);
        ui.set_connected(false);
        screenshot(
            ui.window(),
            &format!("board-{orientation}-full-reconnecting"),
        );
        ui.set_connected(true);

        let stopped = [(2, false), (4, true), (5, false)]
            .map(|(n, closed)| StoppedRow {
                counter_zh: format!("{n}号窗口").into(),
                counter_en: format!("Counter {n}").into(),
                closed,
            })
            .to_vec();
        ui.set_stopped(ModelRc::new(VecModel::from(stopped)));
        screenshot(
            ui.window(),
            &format!("board-{orientation}-counters-stopped"),
        );
        ui.set_stopped(ModelRc::new(VecModel::from(Vec::<StoppedRow>::new())));
    }
}
