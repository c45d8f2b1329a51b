//! Where the printer is, as one string: `serial:/dev/ttyUSB0?baud=19200`,
//! `usb:/dev/usb/lp0`, `tcp:192.168.1.50:9100`, `file:PATH`. Any of them
//! takes `?status=off` for a printer that cannot answer status requests.

use std::fmt;
use std::path::PathBuf;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Transport {
    /// An RS-232 (or USB-serial) port.
    Serial { path: PathBuf, baud: u32 },
    /// The kernel's USB printer device (usblp).
    Usb { path: PathBuf },
    /// A network printer's raw port, usually 9100.
    Tcp { address: String },
    /// Appends the bytes to a file: for trying things out without a printer.
    File { path: PathBuf },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrinterSpec {
    pub transport: Transport,
    /// Ask the printer for its status (DLE EOT) before each ticket.
    pub ask_status: bool,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error(
    "printer \"{spec}\": {problem}; write it as serial:/dev/ttyUSB0?baud=19200, usb:/dev/usb/lp0, tcp:192.168.1.50:9100 or file:PATH"
)]
pub struct SpecError {
    spec: String,
    problem: String,
}

impl PrinterSpec {
    pub fn parse(spec: &str) -> Result<PrinterSpec, SpecError> {
        let fail = |problem: &str| SpecError {
            spec: spec.to_string(),
            problem: problem.to_string(),
        };
        let (kind, rest) = spec
            .split_once(':')
            .ok_or_else(|| fail("it does not start with serial:, usb:, tcp: or file:"))?;
        let (target, query) = rest.split_once('?').unwrap_or((rest, ""));
        if target.is_empty() {
            return Err(fail("the device, address or file is missing"));
        }
        let mut baud = None;
        let mut ask_status = None;
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            match pair.split_once('=') {
                Some(("baud", v)) if kind == "serial" => {
                    baud = Some(
                        v.parse::<u32>()
                            .ok()
                            .filter(|b| (1200..=921_600).contains(b))
                            .ok_or_else(|| fail(&format!("baud={v} is not a serial speed")))?,
                    )
                }
                Some(("status", "on")) => ask_status = Some(true),
                Some(("status", "off")) => ask_status = Some(false),
                _ => return Err(fail(&format!("unknown option \"{pair}\""))),
            }
        }
        let transport = match kind {
            "serial" => Transport::Serial {
                path: target.into(),
                // The speed most thermal printers ship with.
                baud: baud.unwrap_or(19_200),
            },
            "usb" => Transport::Usb {
                path: target.into(),
            },
            "tcp" => {
                let port_ok = target
                    .rsplit_once(':')
                    .is_some_and(|(host, port)| !host.is_empty() && port.parse::<u16>().is_ok());
                if !port_ok {
                    return Err(fail(
                        "a network printer needs HOST:PORT, e.g. 192.168.1.50:9100",
                    ));
                }
                Transport::Tcp {
                    address: target.to_string(),
                }
            }
            "file" => Transport::File {
                path: target.into(),
            },
            _ => return Err(fail(&format!("unknown kind \"{kind}\""))),
        };
        // A file cannot answer; every real printer is asked unless told not to.
        let ask_status = ask_status.unwrap_or(!matches!(transport, Transport::File { .. }));
        Ok(PrinterSpec {
            transport,
            ask_status,
        })
    }
}

impl fmt::Display for PrinterSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.transport {
            Transport::Serial { path, baud } => write!(f, "serial:{}?baud={baud}", path.display()),
            Transport::Usb { path } => write!(f, "usb:{}", path.display()),
            Transport::Tcp { address } => write!(f, "tcp:{address}"),
            Transport::File { path } => write!(f, "file:{}", path.display()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_four_kinds_parse() {
        assert_eq!(
            PrinterSpec::parse("serial:/dev/ttyUSB0?baud=9600").unwrap(),
            PrinterSpec {
                transport: Transport::Serial {
                    path: "/dev/ttyUSB0".into(),
                    baud: 9600
                },
                ask_status: true
            }
        );
        let usb = PrinterSpec::parse("usb:/dev/usb/lp0?status=off").unwrap();
        assert!(!usb.ask_status);
        let tcp = PrinterSpec::parse("tcp:192.168.1.50:9100").unwrap();
        assert_eq!(
            tcp.transport,
            Transport::Tcp {
                address: "192.168.1.50:9100".into()
            }
        );
        let file = PrinterSpec::parse("file:/tmp/t.bin").unwrap();
        assert!(!file.ask_status);
        assert_eq!(file.to_string(), "file:/tmp/t.bin");
    }

    #[test]
    fn mistakes_say_how_to_write_it() {
        for bad in [
            "/dev/ttyUSB0",
            "serial:",
            "serial:/dev/ttyS0?baud=fast",
            "tcp:192.168.1.50",
            "lpt:/dev/lp0",
            "usb:/dev/usb/lp0?speed=1",
        ] {
            let e = PrinterSpec::parse(bad).unwrap_err().to_string();
            assert!(e.contains("write it as serial:"), "{bad}: {e}");
        }
    }
}
