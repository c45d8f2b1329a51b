//! Counter LED displays on serial lines (RS-485 adapters appear as serial
//! ports): a driver interface, one concrete protocol, and a worker per port
//! that never lets a silent display hold up the board.
//!
//! The protocol here ("STX frame") is the plain framing most serial
//! queue-number displays use, with the details fixed:
//!
//! ```text
//! STX  address(2 ASCII digits)  text(up to 16 bytes)  ETX  checksum
//! 0x02 '0' '3'                  'A' '0' '1' '2'       0x03 XOR of address..ETX
//! ```
//!
//! The text is ASCII, or GB2312 for displays that take Chinese (two bytes
//! a character, so 暂停服务 is 8 of the 16): each display's [`Charset`] is
//! configured. The display answers ACK (0x06) when it took the frame, NAK
//! (0x15) when the checksum was wrong. Another model is another
//! [`Protocol`].

use std::collections::HashMap;
use std::sync::mpsc;
use std::time::Duration;

/// How long a display has to acknowledge a frame.
pub const ACK_TIMEOUT: Duration = Duration::from_millis(300);
/// Waits between attempts at a display that did not answer: 1 s doubling to 30 s.
const RETRY_FIRST: Duration = Duration::from_secs(1);
const RETRY_MAX: Duration = Duration::from_secs(30);
const ACK: u8 = 0x06;

/// The longest text a frame carries, in bytes.
pub const TEXT_BYTES: usize = 16;

/// What characters a display can show.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Charset {
    /// Digits and Latin letters only (most number displays).
    #[default]
    Ascii,
    /// GB2312, the character set of Chinese LED modules.
    Gb2312,
}

/// `text` as the display's bytes, at most [`TEXT_BYTES`], whole
/// characters only; characters the display cannot show are left out.
pub fn encode(text: &str, charset: Charset) -> Vec<u8> {
    let mut out = Vec::new();
    for c in text.chars() {
        let bytes = match charset {
            Charset::Ascii => c.is_ascii().then(|| vec![c as u8]),
            Charset::Gb2312 => gb2312(c),
        };
        let Some(bytes) = bytes else { continue };
        if out.len() + bytes.len() > TEXT_BYTES {
            break;
        }
        out.extend(bytes);
    }
    out
}

/// One character in GB2312 (EUC-CN): ASCII as itself, else two bytes each
/// in 0xA1–0xFE. GBK's extensions beyond GB2312 are refused, since a
/// GB2312 display would show them as garbage.
fn gb2312(c: char) -> Option<Vec<u8>> {
    if c.is_ascii() {
        return Some(vec![c as u8]);
    }
    let mut buf = [0u8; 4];
    let (bytes, _, unmappable) = encoding_rs::GBK.encode(c.encode_utf8(&mut buf));
    match *bytes {
        [hi, lo] if !unmappable && (0xA1..=0xF7).contains(&hi) && (0xA1..=0xFE).contains(&lo) => {
            Some(vec![hi, lo])
        }
        _ => None,
    }
}

/// What a counter's display says while the counter does not serve.
pub fn not_serving(charset: Charset, closed: bool) -> &'static str {
    match (charset, closed) {
        (Charset::Gb2312, _) => "暂停服务",
        (Charset::Ascii, false) => "PAUSED",
        (Charset::Ascii, true) => "CLOSED",
    }
}

/// A display model's way of saying "show these bytes".
pub trait Protocol: Send {
    /// `text` is already in the display's character set (see [`encode`]).
    fn frame(&self, address: u8, text: &[u8]) -> Vec<u8>;
    /// Whether `reply` (the bytes read back) acknowledges the frame.
    fn acknowledged(&self, reply: &[u8]) -> bool;
}

/// The STX/ETX/XOR framing described above.
pub struct StxFrame;

impl Protocol for StxFrame {
    fn frame(&self, address: u8, text: &[u8]) -> Vec<u8> {
        let mut body = format!("{:02}", address % 100).into_bytes();
        body.extend(text.iter().take(TEXT_BYTES));
        body.push(0x03);
        let checksum = body.iter().fold(0u8, |x, b| x ^ b);
        let mut frame = vec![0x02];
        frame.extend(body);
        frame.push(checksum);
        frame
    }

    fn acknowledged(&self, reply: &[u8]) -> bool {
        reply.first() == Some(&ACK)
    }
}

/// One serial port with one or more displays on it (RS-485 is a bus).
pub struct LedPort {
    updates: mpsc::Sender<(u8, Vec<u8>)>,
}

impl LedPort {
    /// Starts the worker for `path` at `baud`. Nothing here blocks: the port
    /// is opened (and reopened) by the worker.
    pub fn start(path: String, baud: u32, protocol: Box<dyn Protocol>) -> LedPort {
        let (tx, rx) = mpsc::channel();
        std::thread::Builder::new()
            .name(format!("led {path}"))
            .spawn(move || drive(&path, baud, protocol.as_ref(), &rx))
            .expect("starting an LED worker thread");
        LedPort { updates: tx }
    }

    /// Shows `text` (in the display's character set, see [`encode`]) on
    /// the display at `address` as soon as it answers; a newer text for the
    /// same display replaces one not yet shown.
    pub fn show(&self, address: u8, text: Vec<u8>) {
        let _ = self.updates.send((address, text));
    }
}

/// The worker: sends the newest text of each display until it is
/// acknowledged, retrying silent displays with a growing pause.
fn drive(path: &str, baud: u32, protocol: &dyn Protocol, updates: &mpsc::Receiver<(u8, Vec<u8>)>) {
    let mut pending: HashMap<u8, Vec<u8>> = HashMap::new();
    let mut pause = RETRY_FIRST;
    let mut port: Option<Box<dyn serialport::SerialPort>> = None;
    loop {
        // Wait for work; while some display owes an answer, wait only as long as the pause.
        let next = if pending.is_empty() {
            updates.recv().map_err(|_| ())
        } else {
            updates.recv_timeout(pause).map_err(|_| ())
        };
        match next {
            Ok((address, text)) => {
                pending.insert(address, text);
                while let Ok((address, text)) = updates.try_recv() {
                    pending.insert(address, text);
                }
            }
            Err(()) if pending.is_empty() => return, // the board is gone
            Err(()) => {}
        }
        if port.is_none() {
            match serialport::new(path, baud).timeout(ACK_TIMEOUT).open() {
                Ok(p) => port = Some(p),
                Err(e) => {
                    tracing::warn!(port = path, error = %e, "cannot open the LED displays' port; will retry");
                    pause = (pause * 2).min(RETRY_MAX);
                    continue;
                }
            }
        }
        let p = port.as_mut().expect("opened above");
        let mut failed = false;
        let mut addresses: Vec<u8> = pending.keys().copied().collect();
        addresses.sort_unstable();
        for address in addresses {
            let text = pending[&address].clone();
            match send(p.as_mut(), protocol, address, &text) {
                Ok(true) => {
                    pending.remove(&address);
                }
                Ok(false) => {
                    tracing::warn!(
                        port = path,
                        address,
                        text = ?text,
                        "LED display did not acknowledge; will retry"
                    );
                    failed = true;
                }
                Err(e) => {
                    tracing::warn!(port = path, error = %e, "LED port failed; reopening");
                    port = None;
                    failed = true;
                    break;
                }
            }
        }
        pause = if failed {
            (pause * 2).min(RETRY_MAX)
        } else {
            RETRY_FIRST
        };
    }
}

/// Sends one frame and waits for the answer: for installers checking a
/// display (`display-board led`). True when the display acknowledged.
pub fn show_once(
    path: &str,
    baud: u32,
    protocol: &dyn Protocol,
    address: u8,
    text: &[u8],
) -> std::io::Result<bool> {
    let mut port = serialport::new(path, baud)
        .timeout(ACK_TIMEOUT)
        .open()
        .map_err(std::io::Error::other)?;
    send(port.as_mut(), protocol, address, text)
}

fn send(
    port: &mut dyn serialport::SerialPort,
    protocol: &dyn Protocol,
    address: u8,
    text: &[u8],
) -> std::io::Result<bool> {
    port.clear(serialport::ClearBuffer::Input)
        .map_err(std::io::Error::other)?;
    port.write_all(&protocol.frame(address, text))?;
    port.flush()?;
    let mut reply = [0u8; 1];
    match port.read(&mut reply) {
        Ok(1) => Ok(protocol.acknowledged(&reply)),
        Ok(_) => Ok(false),
        Err(e) if e.kind() == std::io::ErrorKind::TimedOut => Ok(false),
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_frame_is_stx_address_text_etx_xor() {
        let frame = StxFrame.frame(3, &encode("A012", Charset::Ascii));
        let xor = [b'0', b'3', b'A', b'0', b'1', b'2', 0x03]
            .iter()
            .fold(0u8, |x, b| x ^ b);
        assert_eq!(frame, [0x02, b'0', b'3', b'A', b'0', b'1', b'2', 0x03, xor]);
        assert!(StxFrame.acknowledged(&[0x06]) && !StxFrame.acknowledged(&[0x15]));
    }

    #[test]
    fn gb2312_text_is_two_bytes_a_character_and_fits_the_frame() {
        // 暂 D4DD, 停 CDA3, 服 B7FE, 务 CEF1 in GB2312 (EUC-CN).
        assert_eq!(
            encode("暂停服务", Charset::Gb2312),
            [0xD4, 0xDD, 0xCD, 0xA3, 0xB7, 0xFE, 0xCE, 0xF1]
        );
        assert_eq!(encode("A012号", Charset::Gb2312), b"A012\xBA\xC5");
        // ASCII displays drop what they cannot show.
        assert_eq!(encode("暂停 A1", Charset::Ascii), b" A1");
        // Whole characters only: nine Chinese characters make 16 bytes, not 17.
        assert_eq!(encode("一二三四五六七八九", Charset::Gb2312).len(), 16);
        // 丂 is in GBK (0x8140) but not in GB2312: left out.
        assert_eq!(encode("丂A", Charset::Gb2312), b"A");
    }
}
