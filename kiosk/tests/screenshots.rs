//! What a customer sees, rendered headless with Slint's software renderer
//! to target/screenshots/kiosk-*.png: home, keypad, ticket and out of order,
//! in Chinese and English, portrait and landscape. People look at these;
//! the test checks they are drawn at the right size and not blank.

use hall_testkit::screen::{init_slint, screenshot};
use kiosk::{
    Availability, Fault, KeypadError, KioskState, KioskWindow, Screen, ServiceTile, TicketInfo,
};
use slint::{ComponentHandle, ModelRc, VecModel};

struct Lang {
    code: &'static str,
    catalog: &'static str,
    hall: &'static str,
    names: [&'static str; 6],
}

const LANGS: [Lang; 2] = [
    Lang {
        code: "zh",
        catalog: "zh_CN",
        hall: "城东营业厅",
        names: ["贵宾", "缴费", "开户", "过户及用户信息变更", "投诉", "咨询"],
    },
    Lang {
        code: "en",
        catalog: "en",
        hall: "East Side Service Hall",
        names: [
            "VIP",
            "Payment",
            "New account",
            "Change of owner and customer details",
            "Complaint",
            "Enquiry",
        ],
    },
];

/// The calendar's closures as the tiles show them: a lunch break, a closure
/// by the manager with its reason, outside hours until another day.
fn closed_tiles(lang: &Lang) -> Vec<ServiceTile> {
    let zh = lang.code == "zh";
    let mut t = tiles(&lang.names);
    t[0].availability = Availability::OnBreak;
    t[0].opens = "13:30".into();
    t[3].availability = Availability::Closure;
    t[3].closed_reason = if zh {
        "停电检修"
    } else {
        "Power maintenance"
    }
    .into();
    t[3].opens = "14:00".into();
    t[4].availability = Availability::Holiday;
    t[4].closed_reason = if zh { "劳动节" } else { "Labour Day" }.into();
    t[4].opens = if zh { "5月6日 08:30" } else { "6 May 08:30" }.into();
    t[5].opens = if zh { "5月6日 08:30" } else { "6 May 08:30" }.into();
    t
}

fn tiles(names: &[&str; 6]) -> Vec<ServiceTile> {
    let tile = |i: usize, waiting: i32, wait_min: i32, availability: Availability| ServiceTile {
        id: format!("s{i}").into(),
        name: names[i].into(),
        waiting,
        wait_min,
        availability,
        hours: "08:30-17:00".into(),
        ask_account: false,
        opens: "".into(),
        closed_reason: "".into(),
    };
    vec![
        tile(0, 0, 0, Availability::NoCounterOpen),
        tile(1, 12, 18, Availability::Open),
        tile(2, 3, 0, Availability::Open),
        // A long name, to see it fit.
        tile(3, 1, -1, Availability::Open),
        // The manager closed it for the day.
        tile(4, 0, 0, Availability::ClosedToday),
        tile(5, 0, 0, Availability::OutsideHours),
    ]
}

#[test]
fn every_screen_in_both_languages_and_orientations() {
    init_slint(false);
    let ui = KioskWindow::new().unwrap();
    ui.show().unwrap();

    for lang in &LANGS {
        slint::select_bundled_translation(lang.catalog).unwrap();
        ui.global::<KioskState>().set_language(lang.code.into());
        ui.global::<KioskState>().set_hall_name(lang.hall.into());
        ui.global::<KioskState>()
            .set_services(ModelRc::new(VecModel::from(tiles(&lang.names))));
        ui.global::<KioskState>()
            .set_account_service_name(lang.names[1].into());
        ui.global::<KioskState>().set_ticket(TicketInfo {
            number: "A012".into(),
            service: lang.names[1].into(),
            ahead: 3,
            wait_min: 12,
            bring: if lang.code == "zh" {
                "本人身份证原件，户号或缴费卡".into()
            } else {
                "Your ID card, and the account number or payment card".into()
            },
            account: "张*明 · 待缴 ¥128.50 · Amount due".into(),
            checked_in: false,
        });
        // The hall takes numbers on phones: home has the check-in button.
        ui.global::<KioskState>().set_check_in_offered(true);
        for (orientation, w, h) in [("portrait", 1080, 1920), ("landscape", 1920, 1080)] {
            ui.window().set_size(slint::PhysicalSize::new(w, h));
            for (name, screen) in [
                ("home", Screen::Home),
                ("home-closed", Screen::Home),
                ("keypad", Screen::Account),
                ("check-in", Screen::Account),
                ("ticket", Screen::Ticket),
                ("out-of-order", Screen::OutOfOrder),
            ] {
                let checking_in = name == "check-in";
                let state = ui.global::<KioskState>();
                state.set_services(ModelRc::new(VecModel::from(if name == "home-closed" {
                    closed_tiles(lang)
                } else {
                    tiles(&lang.names)
                })));
                state.set_screen(screen);
                state.set_fault(Fault::PaperOut);
                state.set_checking_in(checking_in);
                state.set_keypad_error(if checking_in {
                    KeypadError::UnknownCode
                } else {
                    KeypadError::None
                });
                state.set_account_digits(
                    match (screen, checking_in) {
                        (_, true) => "482913",
                        (Screen::Account, false) => "2025",
                        _ => "",
                    }
                    .into(),
                );
                screenshot(
                    ui.window(),
                    &format!("kiosk-{}-{orientation}-{name}", lang.code),
                );
            }
        }
    }
}
