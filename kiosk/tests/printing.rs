//! Tickets printed for real: ESC/POS bytes through the serialport crate into
//! a socat serial pair (or over TCP), read by a simulated printer, decoded
//! and checked; printer faults come from the simulated printer's replies.

mod support;

use std::time::Duration;

use hall_api::{Lang, PrinterState};
use hall_testkit::serial::SerialPair;
use kiosk::config::{ChineseMode, KioskConfig};
use kiosk::printer::decode::{Piece, decode};
use kiosk::printer::receipt::Receipt;
use kiosk::printer::{PrintError, Printer};
use support::{Condition, SimPrinter};

const JOB: Duration = Duration::from_secs(5);

fn receipt(lang: Lang) -> Receipt {
    Receipt::sample("2026-11-22 09:41", "http://hall.local:8080/t/7Q2KX9", lang)
}

fn printer(device: &str, paper_mm: u32, chinese: ChineseMode) -> Printer {
    let mut config = KioskConfig::default_config();
    config.printer.device = device.into();
    config.printer.paper_mm = paper_mm;
    config.printer.chinese = chinese;
    kiosk::printer_from(&config).expect("a usable printer configuration")
}

/// A printer on a socat serial pair (kept while the test runs), the
/// simulated printer at its other end, and the kiosk's printer for it.
fn on_a_serial_pair(paper_mm: u32) -> (SerialPair, SimPrinter, Printer) {
    let pair = SerialPair::new();
    let sim = SimPrinter::on_serial(&pair.device);
    let p = printer(
        &format!("serial:{}", pair.port.display()),
        paper_mm,
        ChineseMode::Gb18030,
    );
    (pair, sim, p)
}

#[test]
fn a_ticket_over_serial_decodes_to_what_the_customer_needs() {
    let pair = SerialPair::new();
    let sim = SimPrinter::on_serial(&pair.device);
    let p = printer(
        &format!("serial:{}?baud=19200", pair.port.display()),
        80,
        ChineseMode::Gb18030,
    );

    assert_eq!(p.print(&receipt(Lang::Zh)), Ok(PrinterState::Ready));
    let job = sim.next_job(JOB).expect("the printer received a whole job");
    let ticket = decode(&job).expect("valid ESC/POS");
    println!("{ticket}");

    assert_eq!(
        ticket.largest_text(),
        Some(("A012", 7)),
        "the number, very large"
    );
    let lines = ticket.lines();
    for expected in [
        "城东营业厅",
        "East Side Service Hall",
        "缴费",
        "Payment",
        "前面还有 3 人",
        "3 people ahead of you",
        "预计等候约 12 分钟",
        "Estimated wait: about 12 min",
        "2026-11-22 09:41",
        "扫码查看排队进度",
        "请留意叫号，过号请重新取号",
    ] {
        assert!(
            lines.contains(&expected),
            "{expected:?} missing from {lines:?}"
        );
    }
    // Chosen language first.
    let pos = |s: &str| lines.iter().position(|l| *l == s).unwrap();
    assert!(pos("缴费") < pos("Payment"));
    assert_eq!(ticket.qr_codes(), ["http://hall.local:8080/t/7Q2KX9"]);
    assert_eq!(ticket.cuts(), 1);
    assert_eq!(
        ticket.pieces.last(),
        Some(&Piece::Cut),
        "the cut comes last"
    );
    // Asked before (3 questions) and after (3 more).
    assert_eq!(sim.status_requests(), 6);
}

/// What a service needs brought is printed in both languages, wrapped to
/// the paper's width, so the customer reads it before the long wait.
#[test]
fn the_papers_to_bring_are_printed_wrapped_to_the_paper() {
    let (_pair, sim, p) = on_a_serial_pair(58);
    let mut r = receipt(Lang::Zh);
    r.bring = Some(hall_api::I18nText {
        zh: "新旧户主身份证，房产证，欠费结清凭证".into(),
        en: "Both owners' ID cards, the deed, proof that arrears are paid".into(),
    });
    p.print(&r).unwrap();
    let ticket = decode(&sim.next_job(JOB).unwrap()).unwrap();
    let lines = ticket.lines();
    let columns = kiosk::config::Paper::Mm58.columns();
    let width = |l: &str| {
        l.chars()
            .map(|c| if c.is_ascii() { 1 } else { 2 })
            .sum::<usize>()
    };
    let start = lines
        .iter()
        .position(|l| l.starts_with("请携带"))
        .expect("the bring lines");
    let zh: String = lines[start..start + 2].concat();
    assert_eq!(zh, "请携带：新旧户主身份证，房产证，欠费结清凭证");
    let en_start = lines
        .iter()
        .position(|l| l.starts_with("Please bring"))
        .expect("in English too");
    assert!(start < en_start, "the chosen language first");
    let en = lines[en_start..en_start + 3].join(" ");
    assert_eq!(
        en,
        "Please bring: Both owners' ID cards, the deed, proof that arrears are paid"
    );
    for l in &lines[start..en_start + 3] {
        assert!(width(l) <= columns, "{l:?} is wider than {columns} columns");
    }
}

#[test]
fn english_first_when_the_customer_chose_english() {
    let (_pair, sim, p) = on_a_serial_pair(58);
    p.print(&receipt(Lang::En)).unwrap();
    let ticket = decode(&sim.next_job(JOB).unwrap()).unwrap();
    let lines = ticket.lines();
    let pos = |s: &str| lines.iter().position(|l| *l == s).unwrap();
    assert!(pos("Payment") < pos("缴费"));
    assert_eq!(
        ticket.largest_text(),
        Some(("A012", 5)),
        "58 mm paper: smaller"
    );
}

#[test]
fn a_printer_without_paper_or_with_its_cover_open_prints_nothing() {
    let (_pair, sim, p) = on_a_serial_pair(80);

    sim.set(Condition::PaperOut);
    assert_eq!(p.status(), PrinterState::PaperOut);
    assert_eq!(
        p.print(&receipt(Lang::Zh)),
        Err(PrintError::NotReady(PrinterState::PaperOut))
    );
    sim.set(Condition::CoverOpen);
    assert_eq!(
        p.print(&receipt(Lang::Zh)),
        Err(PrintError::NotReady(PrinterState::CoverOpen))
    );
    assert!(
        sim.next_job(Duration::from_millis(300)).is_none(),
        "no paper moved"
    );

    sim.set(Condition::PaperNearEnd);
    assert_eq!(p.print(&receipt(Lang::Zh)), Ok(PrinterState::PaperNearEnd));
    assert!(sim.next_job(JOB).is_some(), "near end still prints");
}

#[test]
fn a_silent_or_unplugged_printer_counts_as_not_answering() {
    let mut pair = SerialPair::new();
    let sim = SimPrinter::on_serial(&pair.device);
    let p = printer(
        &format!("serial:{}", pair.port.display()),
        80,
        ChineseMode::Gb18030,
    );
    sim.set(Condition::Silent);
    assert_eq!(p.status(), PrinterState::NotAnswering);
    assert_eq!(
        p.print(&receipt(Lang::Zh)),
        Err(PrintError::NotReady(PrinterState::NotAnswering))
    );

    sim.set(Condition::Ready);
    assert_eq!(p.status(), PrinterState::Ready);
    pair.unplug();
    assert_eq!(p.status(), PrinterState::NotAnswering);
}

#[test]
fn a_network_printer_running_out_mid_ticket_has_not_printed_it() {
    let sim = SimPrinter::on_tcp();
    let p = printer(
        &format!("tcp:{}", sim.tcp.unwrap()),
        80,
        ChineseMode::Gb18030,
    );
    assert_eq!(p.print(&receipt(Lang::Zh)), Ok(PrinterState::Ready));
    assert_eq!(
        decode(&sim.next_job(JOB).unwrap()).unwrap().largest_text(),
        Some(("A012", 7))
    );

    sim.set(Condition::RunsOutWhilePrinting);
    match p.print(&receipt(Lang::Zh)) {
        Err(PrintError::Failed { state, .. }) => assert_eq!(state, PrinterState::PaperOut),
        other => panic!("expected a failed print, got {other:?}"),
    }
}

#[test]
fn chinese_as_images_for_printers_without_a_chinese_font() {
    let sim = SimPrinter::on_tcp();
    let p = printer(
        &format!("tcp:{}", sim.tcp.unwrap()),
        58,
        ChineseMode::Raster,
    );
    p.print(&receipt(Lang::Zh)).unwrap();
    let ticket = decode(&sim.next_job(JOB).unwrap()).unwrap();
    println!("{ticket}");

    // Every line with Chinese is a picture the width of the paper; the rest is text.
    let lines = ticket.lines();
    assert!(lines.iter().all(|l| l.is_ascii()), "{lines:?}");
    assert!(lines.contains(&"East Side Service Hall") && lines.contains(&"Payment"));
    assert_eq!(ticket.largest_text(), Some(("A012", 5)));
    let images = ticket.images();
    // Hall, service, ahead, wait, scan, footer: six Chinese lines.
    assert_eq!(images.len(), 6, "{ticket}");
    for image in &images {
        assert_eq!(image.width, 384);
        assert!(image.dots() > 100, "the picture has ink");
    }
    // The service name, drawn twice as tall, is the second picture.
    assert!(images[1].height > images[0].height);
    assert_eq!(ticket.qr_codes(), ["http://hall.local:8080/t/7Q2KX9"]);
}

#[test]
fn a_file_printer_takes_tickets_without_status_and_decode_reads_them() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("tickets.bin");
    let p = printer(
        &format!("file:{}", file.display()),
        80,
        ChineseMode::Gb18030,
    );
    assert_eq!(p.status(), PrinterState::Unknown);
    p.print(&receipt(Lang::Zh)).unwrap();
    p.print(&receipt(Lang::En)).unwrap();

    let (ok, out, err) = hall_testkit::run_to_end(
        env!("CARGO_BIN_EXE_kiosk").as_ref(),
        &["decode", file.to_str().unwrap()],
    );
    assert!(ok, "{err}");
    assert_eq!(out.matches("A012  [×7 bold]").count(), 2, "{out}");
    assert_eq!(out.matches("[cut]").count(), 2, "{out}");
    assert!(
        out.contains("[QR: http://hall.local:8080/t/7Q2KX9]"),
        "{out}"
    );
}

#[test]
fn test_print_prints_a_sample_ticket_for_installers() {
    let pair = SerialPair::new();
    let sim = SimPrinter::on_serial(&pair.device);
    let (ok, out, err) = hall_testkit::run_to_end(
        env!("CARGO_BIN_EXE_kiosk").as_ref(),
        &[
            "test-print",
            "--printer",
            &format!("serial:{}", pair.port.display()),
            "--paper",
            "58",
        ],
    );
    assert!(ok, "{out}{err}");
    assert!(out.contains("status: Ready"), "{out}");
    let ticket = decode(&sim.next_job(JOB).unwrap()).unwrap();
    assert_eq!(ticket.largest_text(), Some(("A012", 5)));

    let (ok, _, err) = hall_testkit::run_to_end(
        env!("CARGO_BIN_EXE_kiosk").as_ref(),
        &["test-print", "--printer", "lpt1"],
    );
    assert!(!ok && err.contains("write it as serial:"), "{err}");
}
