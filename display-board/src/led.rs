//! Counter LED displays on serial lines (RS-485 adapters appear as serial
//! ports): a driver interface, one concrete protocol, and a worker per port
//! that never lets a silent display hold up the board.
//!
//! The protocol here ("STX frame") is the plain framing most serial
//! queue-number displays use, with the details fixed:
//!
//! ```text
//! STX  address(2 ASCII digits)  text(ASCII, up to 16)  ETX  checksum
//! 0x02 '0' '3'                  'A' '0' '1' '2'        0x03 XOR of address..ETX
//! ```
//!
//! The display answers ACK (0x06) when it took the frame, NAK (0x15) when
//! the checksum was wrong. Another model is another [`Protocol`].

use std::collections::HashMap;
use std::sync::mpsc;
use std::time::Duration;

/// How long a display has to acknowledge a frame.
pub const ACK_TIMEOUT: Duration = Duration::from_millis(300);
/// Waits between attempts at a display that did not answer: 1 s doubling to 30 s.
const RETRY_FIRST: Duration = Duration::from_secs(1);
const RETRY_MAX: Duration = Duration::from_secs(30);
const ACK: u8 = 0x06;

/// A display model's way of saying "show this text".
pub trait Protocol: Send {
    fn frame(&self, address: u8, text: &str) -> Vec<u8>;
    /// Whether `reply` (the bytes read back) acknowledges the frame.
    fn acknowledged(&self, reply: &[u8]) -> bool;
}

/// The STX/ETX/XOR framing described above.
pub struct StxFrame;

impl Protocol for StxFrame {
    fn frame(&self, address: u8, text: &str) -> Vec<u8> {
        let mut body = format!("{:02}", address % 100).into_bytes();
        body.extend(text.bytes().filter(u8::is_ascii).take(16));
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
    updates: mpsc::Sender<(u8, String)>,
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

    /// Shows `text` on the display at `address` as soon as it answers; a
    /// newer text for the same display replaces one not yet shown.
    pub fn show(&self, address: u8, text: &str) {
        let _ = self.updates.send((address, text.to_string()));
    }
}

/// The worker: sends the newest text of each display until it is
/// acknowledged, retrying silent displays with a growing pause.
fn drive(path: &str, baud: u32, protocol: &dyn Protocol, updates: &mpsc::Receiver<(u8, String)>) {
    let mut pending: HashMap<u8, String> = HashMap::new();
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
                        text,
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
    text: &str,
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
    text: &str,
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
        let frame = StxFrame.frame(3, "A012");
        let xor = [b'0', b'3', b'A', b'0', b'1', b'2', 0x03]
            .iter()
            .fold(0u8, |x, b| x ^ b);
        assert_eq!(frame, [0x02, b'0', b'3', b'A', b'0', b'1', b'2', 0x03, xor]);
        assert!(StxFrame.acknowledged(&[0x06]) && !StxFrame.acknowledged(&[0x15]));
    }
}
