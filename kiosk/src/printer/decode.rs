//! Reads ESC/POS bytes back into what a person would see on the paper:
//! lines of text with their size, QR code contents, images and cuts. The
//! tests check printed tickets with it, and `kiosk decode FILE` shows what a
//! `file:` printer received.

use std::fmt;

use super::raster::Bitmap;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Piece {
    /// A printed line and its magnification (1 = normal).
    Text {
        text: String,
        size: u8,
        bold: bool,
    },
    /// A QR code and the text it carries.
    Qr(String),
    Image(Bitmap),
    Cut,
    /// A status request (DLE EOT n) inside the data.
    StatusRequest(u8),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decoded {
    pub pieces: Vec<Piece>,
}

impl Decoded {
    /// Every line of text, in order.
    pub fn lines(&self) -> Vec<&str> {
        self.pieces
            .iter()
            .filter_map(|p| match p {
                Piece::Text { text, .. } => Some(text.as_str()),
                _ => None,
            })
            .collect()
    }

    pub fn qr_codes(&self) -> Vec<&str> {
        self.pieces
            .iter()
            .filter_map(|p| match p {
                Piece::Qr(s) => Some(s.as_str()),
                _ => None,
            })
            .collect()
    }

    pub fn images(&self) -> Vec<&Bitmap> {
        self.pieces
            .iter()
            .filter_map(|p| match p {
                Piece::Image(b) => Some(b),
                _ => None,
            })
            .collect()
    }

    /// The largest text: on a ticket, its number.
    pub fn largest_text(&self) -> Option<(&str, u8)> {
        self.pieces
            .iter()
            .filter_map(|p| match p {
                Piece::Text { text, size, .. } => Some((text.as_str(), *size)),
                _ => None,
            })
            .max_by_key(|(_, size)| *size)
    }

    pub fn cuts(&self) -> usize {
        self.pieces.iter().filter(|p| **p == Piece::Cut).count()
    }
}

impl fmt::Display for Decoded {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for p in &self.pieces {
            match p {
                Piece::Text { text, size, bold } => {
                    let style = match (*size, *bold) {
                        (1, false) => String::new(),
                        (s, b) => format!("  [×{s}{}]", if b { " bold" } else { "" }),
                    };
                    writeln!(f, "{text}{style}")?
                }
                Piece::Qr(s) => writeln!(f, "[QR: {s}]")?,
                Piece::Image(b) => writeln!(f, "[image {}×{} dots]", b.width, b.height)?,
                Piece::Cut => writeln!(f, "[cut]")?,
                Piece::StatusRequest(n) => writeln!(f, "[status request {n}]")?,
            }
        }
        Ok(())
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("byte {at}: {problem}")]
pub struct DecodeError {
    pub at: usize,
    pub problem: String,
}

/// Decodes a whole print job. Commands the kiosk never sends are errors, so
/// a test notices anything unexpected on the wire.
pub fn decode(bytes: &[u8]) -> Result<Decoded, DecodeError> {
    let mut r = Reader {
        bytes,
        at: 0,
        pieces: Vec::new(),
        line: Vec::new(),
        chinese: false,
        size: 1,
        bold: false,
        qr_data: None,
    };
    r.run()?;
    Ok(Decoded { pieces: r.pieces })
}

struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
    pieces: Vec<Piece>,
    line: Vec<u8>,
    chinese: bool,
    size: u8,
    bold: bool,
    qr_data: Option<String>,
}

impl Reader<'_> {
    fn fail<T>(&self, problem: impl Into<String>) -> Result<T, DecodeError> {
        Err(DecodeError {
            at: self.at,
            problem: problem.into(),
        })
    }

    fn take(&mut self, n: usize) -> Result<&[u8], DecodeError> {
        if self.at + n > self.bytes.len() {
            return self.fail(format!("a command needs {n} more bytes but the data ends"));
        }
        let s = &self.bytes[self.at..self.at + n];
        self.at += n;
        Ok(s)
    }

    fn byte(&mut self) -> Result<u8, DecodeError> {
        Ok(self.take(1)?[0])
    }

    fn end_line(&mut self) -> Result<(), DecodeError> {
        let raw = std::mem::take(&mut self.line);
        let text = if self.chinese {
            let (text, had_errors) = encoding_rs::GB18030.decode_without_bom_handling(&raw);
            if had_errors {
                return self.fail("text is not valid GB18030");
            }
            text.into_owned()
        } else if raw.is_ascii() {
            String::from_utf8(raw).expect("ASCII is UTF-8")
        } else {
            return self.fail("bytes above 0x7f outside Chinese mode (FS &)");
        };
        self.pieces.push(Piece::Text {
            text,
            size: self.size,
            bold: self.bold,
        });
        Ok(())
    }

    fn run(&mut self) -> Result<(), DecodeError> {
        while self.at < self.bytes.len() {
            let b = self.byte()?;
            match b {
                0x0a => self.end_line()?,
                0x1b => self.esc()?,
                0x1d => self.gs()?,
                0x1c => match self.byte()? {
                    0x26 => self.chinese = true,
                    0x2e => self.chinese = false,
                    other => return self.fail(format!("unknown FS command 0x{other:02x}")),
                },
                0x10 => {
                    if self.byte()? != 0x04 {
                        return self.fail("DLE not followed by EOT");
                    }
                    let n = self.byte()?;
                    self.pieces.push(Piece::StatusRequest(n));
                }
                0x00..=0x1f => return self.fail(format!("unexpected control byte 0x{b:02x}")),
                _ => self.line.push(b),
            }
        }
        if !self.line.is_empty() {
            self.end_line()?;
        }
        Ok(())
    }

    fn esc(&mut self) -> Result<(), DecodeError> {
        match self.byte()? {
            b'@' => {
                self.chinese = false;
                self.size = 1;
                self.bold = false;
            }
            b'a' | b't' | b'M' | b'3' | b'R' | b'-' | b'G' => {
                self.byte()?;
            }
            b'E' => self.bold = self.byte()? & 1 == 1,
            b'!' => {
                let n = self.byte()?;
                self.size = if n & 0x30 != 0 { 2 } else { 1 };
                self.bold = n & 0x08 != 0;
            }
            b'd' => {
                if !self.line.is_empty() {
                    self.end_line()?;
                }
                self.byte()?;
            }
            b'2' => {}
            other => return self.fail(format!("unknown ESC command 0x{other:02x}")),
        }
        Ok(())
    }

    fn gs(&mut self) -> Result<(), DecodeError> {
        match self.byte()? {
            b'!' => {
                let n = self.byte()?;
                // Width in the high nibble, height in the low one, each minus 1.
                self.size = (n & 0x0f) + 1;
            }
            b'V' => {
                let m = self.byte()?;
                if m >= 65 {
                    self.byte()?;
                }
                self.pieces.push(Piece::Cut);
            }
            b'(' => {
                if self.byte()? != b'k' {
                    return self.fail("only GS ( k (2D codes) is expected");
                }
                let len = self.take(2)?;
                let len = usize::from(len[0]) | usize::from(len[1]) << 8;
                let body = self.take(len)?.to_vec();
                self.code_2d(&body)?;
            }
            b'v' => {
                if self.byte()? != b'0' {
                    return self.fail("only GS v 0 images are expected");
                }
                let h = self.take(5)?;
                let (x, y) = (
                    u32::from(h[1]) | u32::from(h[2]) << 8,
                    u32::from(h[3]) | u32::from(h[4]) << 8,
                );
                let bits = self.take((x * y) as usize)?.to_vec();
                self.pieces.push(Piece::Image(Bitmap {
                    width: x * 8,
                    height: y,
                    bits,
                }));
            }
            other => return self.fail(format!("unknown GS command 0x{other:02x}")),
        }
        Ok(())
    }

    fn code_2d(&mut self, body: &[u8]) -> Result<(), DecodeError> {
        // cn 49 = QR code; fn 80 stores data (after "m" = 48), fn 81 prints it.
        match body {
            [49, 80, 48, data @ ..] => {
                let text = String::from_utf8(data.to_vec())
                    .or_else(|_| self.fail("QR data is not UTF-8"))?;
                self.qr_data = Some(text);
            }
            [49, 81, ..] => match self.qr_data.take() {
                Some(text) => self.pieces.push(Piece::Qr(text)),
                None => return self.fail("QR print without stored data"),
            },
            [49, 65 | 67 | 69, ..] => {} // model, module size, error correction
            _ => return self.fail(format!("unknown 2D code command {body:?}")),
        }
        Ok(())
    }
}
