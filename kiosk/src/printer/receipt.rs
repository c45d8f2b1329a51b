//! The printed ticket as ESC/POS bytes: hall, service, the number very
//! large, people ahead, estimated wait, date and time, a QR code with the
//! tracking address, a footer, and a cut. The chosen language comes first,
//! the other one under it, so staff read it too.

use std::cell::RefCell;
use std::rc::Rc;
use std::sync::Arc;

use escpos::driver::Driver;
use escpos::printer::Printer;
use escpos::utils::{JustifyMode, Protocol, QRCodeCorrectionLevel, QRCodeModel, QRCodeOption};
use hall_api::{I18nText, Lang};

use super::raster::RasterFont;
use crate::config::{Paper, Wording};

/// What goes on one ticket.
#[derive(Debug, Clone)]
pub struct Receipt {
    pub hall_name: I18nText,
    pub service_name: I18nText,
    pub number: String,
    pub ahead: u32,
    /// Minutes; `None` when the server has no estimate.
    pub wait_min: Option<u32>,
    /// Local date and time of issue, as printed.
    pub issued_at: String,
    pub tracking_url: Option<String>,
    pub lang: Lang,
    /// The papers the service needs, printed so nobody waits without them.
    pub bring: Option<I18nText>,
}

impl Receipt {
    /// The sample ticket of `kiosk test-print`: every element a real one
    /// has (Chinese, a large number, a QR code), for installers and tests.
    pub fn sample(
        issued_at: impl Into<String>,
        tracking_url: impl Into<String>,
        lang: Lang,
    ) -> Receipt {
        Receipt {
            hall_name: I18nText {
                zh: "城东营业厅".into(),
                en: "East Side Service Hall".into(),
            },
            service_name: I18nText {
                zh: "缴费".into(),
                en: "Payment".into(),
            },
            number: "A012".into(),
            ahead: 3,
            wait_min: Some(12),
            issued_at: issued_at.into(),
            tracking_url: Some(tracking_url.into()),
            lang,
            bring: None,
        }
    }
}

/// How this hall's printer wants it.
#[derive(Clone)]
pub struct Layout {
    pub paper: Paper,
    pub chinese: Chinese,
    pub wording: Wording,
}

/// How Chinese reaches the paper.
#[derive(Clone)]
pub enum Chinese {
    /// The printer's own GB18030 font (FS & selects it).
    Gb18030,
    /// Drawn by the kiosk and printed as an image.
    Raster(Arc<RasterFont>),
}

impl Paper {
    /// Printable dots across (203 dpi heads).
    pub fn dots(self) -> u32 {
        match self {
            Paper::Mm58 => 384,
            Paper::Mm80 => 576,
        }
    }

    /// Characters per line in the standard 12×24 font.
    pub fn columns(self) -> usize {
        (self.dots() / 12) as usize
    }

    /// Magnification of the ticket number (ESC/POS allows 1 to 8): five
    /// characters such as "VA123" must fit across.
    fn number_size(self) -> u8 {
        match self {
            Paper::Mm58 => 5,
            Paper::Mm80 => 7,
        }
    }

    fn qr_module(self) -> u8 {
        match self {
            Paper::Mm58 => 5,
            Paper::Mm80 => 7,
        }
    }
}

/// Collects what escpos's `Printer` would send, so the bytes can go over any
/// of the kiosk's transports (and be measured and tested).
#[derive(Clone, Default)]
struct Collect(Rc<RefCell<Vec<u8>>>);

impl Driver for Collect {
    fn name(&self) -> String {
        "collect".into()
    }
    fn write(&self, data: &[u8]) -> escpos::errors::Result<()> {
        self.0.borrow_mut().extend_from_slice(data);
        Ok(())
    }
    fn read(&self, _buf: &mut [u8]) -> escpos::errors::Result<usize> {
        Ok(0)
    }
    fn flush(&self) -> escpos::errors::Result<()> {
        Ok(())
    }
}

/// FS & / FS . : the printer's double-byte (GB18030) character mode.
const CHINESE_ON: &[u8] = &[0x1c, 0x26];
const CHINESE_OFF: &[u8] = &[0x1c, 0x2e];

/// Line heights of the standard font, in dots.
const LINE_DOTS: u32 = 24;

pub fn build(receipt: &Receipt, layout: &Layout) -> anyhow::Result<Vec<u8>> {
    let out = Collect::default();
    let mut p = Printer::new(out.clone(), Protocol::default(), None);
    let paper = layout.paper;
    let w = &layout.wording;
    let (first, second) = (receipt.lang, receipt.lang.other());
    let mut text = TextOut {
        chinese: &layout.chinese,
        paper,
    };

    p.init()?;
    if matches!(layout.chinese, Chinese::Gb18030) {
        p.custom(CHINESE_ON)?;
    }
    p.justify(JustifyMode::CENTER)?;

    p.bold(true)?;
    text.line(&mut p, receipt.hall_name.get(first), 1)?;
    p.bold(false)?;
    text.line(&mut p, receipt.hall_name.get(second), 1)?;
    text.line(&mut p, &"-".repeat(paper.columns()), 1)?;

    p.bold(true)?;
    text.line(&mut p, receipt.service_name.get(first), 2)?;
    p.bold(false)?;
    text.line(&mut p, receipt.service_name.get(second), 1)?;

    // ASCII only, so plain text in every mode.
    p.size(paper.number_size(), paper.number_size())?;
    p.bold(true)?;
    p.writeln(&receipt.number)?;
    p.bold(false)?;
    p.reset_size()?;

    let ahead = if receipt.ahead == 0 {
        &w.next
    } else {
        &w.ahead
    };
    let wait = match receipt.wait_min {
        Some(0) => &w.no_wait,
        Some(_) => &w.wait,
        None => &w.no_estimate,
    };
    let fill = |t: &str| {
        t.replace("{ahead}", &receipt.ahead.to_string()).replace(
            "{minutes}",
            &receipt.wait_min.unwrap_or_default().to_string(),
        )
    };
    for lang in [first, second] {
        text.line(&mut p, &fill(ahead.get(lang)), 1)?;
        text.line(&mut p, &fill(wait.get(lang)), 1)?;
    }
    if let Some(items) = &receipt.bring {
        p.feed()?;
        for lang in [first, second] {
            let line = w.bring.get(lang).replace("{items}", items.get(lang));
            for part in wrap(&line, paper.columns()) {
                text.line(&mut p, &part, 1)?;
            }
        }
        p.feed()?;
    }
    text.line(&mut p, &receipt.issued_at, 1)?;

    if let Some(url) = &receipt.tracking_url {
        p.feed()?;
        p.qrcode_option(
            url,
            QRCodeOption::new(
                QRCodeModel::Model2,
                paper.qr_module(),
                QRCodeCorrectionLevel::M,
            ),
        )?;
        text.line(&mut p, w.scan.get(first), 1)?;
        text.line(&mut p, w.scan.get(second), 1)?;
    }
    p.feed()?;
    text.line(&mut p, w.footer.get(first), 1)?;
    text.line(&mut p, w.footer.get(second), 1)?;

    if matches!(layout.chinese, Chinese::Gb18030) {
        p.custom(CHINESE_OFF)?;
    }
    // Past the cutter before cutting, so the last line is on this ticket.
    p.feeds(4)?;
    p.cut()?;
    p.print()?;
    let bytes = out.0.borrow().clone();
    Ok(bytes)
}

/// Columns a character takes on the printer: Chinese two, ASCII one.
fn columns_of(c: char) -> usize {
    if c.is_ascii() { 1 } else { 2 }
}

/// `text` cut into lines of at most `columns`, at a space where one is
/// near (English), anywhere else (Chinese has no spaces to break at).
pub fn wrap(text: &str, columns: usize) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = String::new();
    let mut width = 0;
    for c in text.chars() {
        let w = columns_of(c);
        if width + w > columns {
            // Back to the last space, if the line has one past its middle.
            match line.rfind(' ').filter(|&i| i > line.len() / 2) {
                Some(i) => {
                    let rest = line[i + 1..].to_string();
                    line.truncate(i);
                    lines.push(std::mem::take(&mut line));
                    width = rest.chars().map(columns_of).sum();
                    line = rest;
                }
                None => {
                    lines.push(std::mem::take(&mut line));
                    width = 0;
                }
            }
            if c == ' ' && line.is_empty() {
                continue;
            }
        }
        line.push(c);
        width += w;
    }
    if !line.trim().is_empty() {
        lines.push(line);
    }
    lines
}

struct TextOut<'a> {
    chinese: &'a Chinese,
    paper: Paper,
}

impl TextOut<'_> {
    /// One centred line, `size` times the normal height (1 or 2).
    fn line(&mut self, p: &mut Printer<Collect>, line: &str, size: u8) -> anyhow::Result<()> {
        if line.is_empty() {
            return Ok(());
        }
        match self.chinese {
            Chinese::Raster(font) if !line.is_ascii() => {
                let bitmap = font.render(line, self.paper.dots(), LINE_DOTS * u32::from(size) + 8);
                p.custom(&raster_command(&bitmap))?;
            }
            _ => {
                if size > 1 {
                    p.size(size, size)?;
                }
                let (bytes, _, unmappable) = encoding_rs::GB18030.encode(line);
                if unmappable {
                    tracing::warn!(line, "some characters have no GB18030 code; printed as '?'");
                }
                p.custom(&bytes)?;
                p.feed()?;
                if size > 1 {
                    p.reset_size()?;
                }
            }
        }
        Ok(())
    }
}

/// GS v 0: a raster image, normal density.
pub fn raster_command(bitmap: &super::raster::Bitmap) -> Vec<u8> {
    let x = bitmap.bytes_per_row();
    let y = bitmap.height;
    let mut cmd = vec![
        0x1d,
        0x76,
        0x30,
        0,
        (x & 0xff) as u8,
        (x >> 8) as u8,
        (y & 0xff) as u8,
        (y >> 8) as u8,
    ];
    cmd.extend_from_slice(&bitmap.bits);
    cmd
}
