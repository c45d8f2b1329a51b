//! The counter LED driver through a real serial pair (socat): the bytes at
//! the far end are exactly the protocol's frame; a display that does not
//! answer is retried until it does, and never holds up the caller.

use std::io::Write;
use std::time::{Duration, Instant};

use display_board::led::{LedPort, StxFrame};
use hall_testkit::serial::SerialPair;

/// Reads one whole frame (STX … ETX checksum) from the display's end.
fn read_frame(display: &mut dyn serialport::SerialPort, within: Duration) -> Option<Vec<u8>> {
    let deadline = Instant::now() + within;
    let mut frame = Vec::new();
    let mut byte = [0u8; 1];
    while Instant::now() < deadline {
        match display.read(&mut byte) {
            Ok(1) => {
                frame.push(byte[0]);
                let n = frame.len();
                if n >= 2 && frame[n - 2] == 0x03 {
                    return Some(frame);
                }
            }
            _ => continue,
        }
    }
    None
}

fn checksum(body: &[u8]) -> u8 {
    body.iter().fold(0, |x, b| x ^ b)
}

#[test]
fn frames_reach_the_display_and_silent_displays_are_retried() {
    let pair = SerialPair::new();
    let mut display = serialport::new(pair.device.to_string_lossy(), 9600)
        .timeout(Duration::from_millis(20))
        .open()
        .unwrap();
    let leds = LedPort::start(pair.port.to_string_lossy().into(), 9600, Box::new(StxFrame));

    leds.show(3, b"A012".to_vec());
    let frame = read_frame(display.as_mut(), Duration::from_secs(5)).expect("a frame");
    let body = b"03A012\x03";
    let mut expected = vec![0x02];
    expected.extend_from_slice(body);
    expected.push(checksum(body));
    assert_eq!(frame, expected);
    display.write_all(&[0x06]).unwrap();

    // Display 4 stays silent: the frame comes again (show() itself only queues).
    leds.show(4, b"B001".to_vec());
    let first = read_frame(display.as_mut(), Duration::from_secs(5)).expect("a frame");
    assert_eq!(&first[1..7], b"04B001");
    let again = read_frame(display.as_mut(), Duration::from_secs(5)).expect("a retry");
    assert_eq!(again, first);
    display.write_all(&[0x06]).unwrap();
    // Acknowledged: nothing more is sent.
    assert_eq!(
        read_frame(display.as_mut(), Duration::from_millis(2500)),
        None
    );

    // A newer text replaces one not yet shown.
    leds.show(5, b"C001".to_vec());
    leds.show(5, b"C002".to_vec());
    let mut seen = Vec::new();
    while let Some(f) = read_frame(display.as_mut(), Duration::from_millis(800)) {
        seen.push(f[3..7].to_vec());
        display.write_all(&[0x06]).unwrap();
    }
    assert_eq!(
        seen.last().map(Vec::as_slice),
        Some(&b"C002"[..]),
        "{seen:?}"
    );
}

/// A display at the far end that takes one frame, acknowledges it, and
/// hands it over.
fn acknowledge_one_frame(pair: &SerialPair) -> std::thread::JoinHandle<Option<Vec<u8>>> {
    let device = pair.device.clone();
    std::thread::spawn(move || {
        let mut display = serialport::new(device.to_string_lossy(), 9600)
            .timeout(Duration::from_millis(20))
            .open()
            .unwrap();
        let frame = read_frame(display.as_mut(), Duration::from_secs(5));
        display.write_all(&[0x06]).unwrap();
        frame
    })
}

#[test]
fn the_led_command_checks_one_display() {
    let pair = SerialPair::new();
    let answer = acknowledge_one_frame(&pair);
    let bin = env!("CARGO_BIN_EXE_display-board");
    let port = pair.port.to_string_lossy().to_string();
    let (ok, out, err) = hall_testkit::run_to_end(
        bin.as_ref(),
        &["led", "--port", &port, "--address", "7", "--text", "A012"],
    );
    assert!(ok && out.contains("display 7"), "{out}{err}");
    assert_eq!(&answer.join().unwrap().unwrap()[1..7], b"07A012");

    // A Chinese display: the text goes as GB2312.
    let answer = acknowledge_one_frame(&pair);
    let (ok, out, err) = hall_testkit::run_to_end(
        bin.as_ref(),
        &[
            "led",
            "--port",
            &port,
            "--address",
            "7",
            "--charset",
            "gb2312",
            "--text",
            "暂停服务",
        ],
    );
    assert!(ok, "{out}{err}");
    assert_eq!(
        &answer.join().unwrap().unwrap()[1..11],
        [b'0', b'7', 0xD4, 0xDD, 0xCD, 0xA3, 0xB7, 0xFE, 0xCE, 0xF1]
    );

    // Nobody answers now.
    let (ok, _, err) = hall_testkit::run_to_end(
        bin.as_ref(),
        &["led", "--port", &port, "--address", "7", "--text", "A013"],
    );
    assert!(!ok && err.contains("did not acknowledge"), "{err}");
}
