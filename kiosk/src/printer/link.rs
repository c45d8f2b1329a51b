//! A connection to the printer for one job: write bytes, and ask the
//! real-time status (DLE EOT) where the transport can carry an answer.

use std::fs::{File, OpenOptions};
use std::io::{self, Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::os::fd::AsRawFd;
use std::time::{Duration, Instant};

use super::spec::{PrinterSpec, Transport};

/// How long a printer has to answer one status request. Real printers answer
/// within a few milliseconds, even while printing.
pub const STATUS_TIMEOUT: Duration = Duration::from_millis(500);
/// How long writing a ticket may take before the printer counts as gone.
const WRITE_TIMEOUT: Duration = Duration::from_secs(5);

/// One open connection.
pub enum Link {
    Serial(Box<dyn serialport::SerialPort>),
    Usb(File),
    Tcp(TcpStream),
    File(File),
}

impl Link {
    pub fn open(spec: &PrinterSpec) -> io::Result<Link> {
        Ok(match &spec.transport {
            Transport::Serial { path, baud } => {
                let port = serialport::new(path.to_string_lossy(), *baud)
                    .timeout(STATUS_TIMEOUT)
                    .flow_control(serialport::FlowControl::None)
                    .open()
                    .map_err(io::Error::other)?;
                Link::Serial(port)
            }
            Transport::Usb { path } => {
                use std::os::unix::fs::OpenOptionsExt;
                let file = OpenOptions::new()
                    .read(true)
                    .write(true)
                    .custom_flags(libc::O_NONBLOCK)
                    .open(path)?;
                Link::Usb(file)
            }
            Transport::Tcp { address } => {
                let addr = address.to_socket_addrs()?.next().ok_or_else(|| {
                    io::Error::new(io::ErrorKind::NotFound, format!("{address} has no address"))
                })?;
                let stream = TcpStream::connect_timeout(&addr, Duration::from_secs(2))?;
                stream.set_nodelay(true)?;
                stream.set_read_timeout(Some(STATUS_TIMEOUT))?;
                stream.set_write_timeout(Some(WRITE_TIMEOUT))?;
                Link::Tcp(stream)
            }
            Transport::File { path } => {
                Link::File(OpenOptions::new().create(true).append(true).open(path)?)
            }
        })
    }

    pub fn write_all(&mut self, bytes: &[u8]) -> io::Result<()> {
        match self {
            Link::Serial(port) => {
                port.write_all(bytes)?;
                port.flush()
            }
            Link::Usb(file) => write_nonblocking(file, bytes),
            Link::Tcp(stream) => stream.write_all(bytes),
            Link::File(file) => {
                file.write_all(bytes)?;
                file.sync_data()
            }
        }
    }

    /// Sends `DLE EOT n` and reads the one status byte; `None` when nothing
    /// came back in time.
    ///
    /// Written here rather than with escpos's `real_time_status`, which sends
    /// a fourth byte (0x00) that the ESC/POS reference does not have.
    pub fn ask(&mut self, n: u8) -> io::Result<Option<u8>> {
        let request = [0x10, 0x04, n];
        let mut byte = [0u8; 1];
        match self {
            Link::Serial(port) => {
                port.clear(serialport::ClearBuffer::Input)
                    .map_err(io::Error::other)?;
                port.write_all(&request)?;
                port.flush()?;
                read_one(port.as_mut(), &mut byte)
            }
            Link::Tcp(stream) => {
                drain(stream)?;
                stream.write_all(&request)?;
                read_one(stream, &mut byte)
            }
            Link::Usb(file) => {
                write_nonblocking(file, &request)?;
                if !poll(file, libc::POLLIN, STATUS_TIMEOUT)? {
                    return Ok(None);
                }
                read_one(file, &mut byte)
            }
            Link::File(_) => Ok(None),
        }
    }
}

/// Drops bytes a printer sent unasked (or a late answer), so the next byte
/// read is the answer to the next question.
fn drain(stream: &mut TcpStream) -> io::Result<()> {
    stream.set_nonblocking(true)?;
    let mut junk = [0u8; 64];
    let result = loop {
        match stream.read(&mut junk) {
            Ok(0) => break Err(io::ErrorKind::ConnectionAborted.into()),
            Ok(_) => continue,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => break Ok(()),
            Err(e) => break Err(e),
        }
    };
    stream.set_nonblocking(false)?;
    result
}

fn read_one(r: &mut (impl Read + ?Sized), byte: &mut [u8; 1]) -> io::Result<Option<u8>> {
    match r.read(byte) {
        Ok(1) => Ok(Some(byte[0])),
        Ok(_) => Ok(None),
        Err(e)
            if matches!(
                e.kind(),
                io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock
            ) =>
        {
            Ok(None)
        }
        Err(e) => Err(e),
    }
}

/// usblp is opened non-blocking (so a status read can time out); writes wait
/// for room with poll, up to the write timeout.
fn write_nonblocking(file: &mut File, mut bytes: &[u8]) -> io::Result<()> {
    let deadline = Instant::now() + WRITE_TIMEOUT;
    while !bytes.is_empty() {
        match file.write(bytes) {
            Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
            Ok(n) => bytes = &bytes[n..],
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                let left = deadline.saturating_duration_since(Instant::now());
                if left.is_zero() || !poll(file, libc::POLLOUT, left)? {
                    return Err(io::Error::new(
                        io::ErrorKind::TimedOut,
                        "the printer took no data for 5 s",
                    ));
                }
            }
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

fn poll(file: &File, events: libc::c_short, timeout: Duration) -> io::Result<bool> {
    let mut fd = libc::pollfd {
        fd: file.as_raw_fd(),
        events,
        revents: 0,
    };
    let ms = timeout.as_millis().min(i32::MAX as u128) as libc::c_int;
    // SAFETY: one valid pollfd for the duration of the call.
    let n = unsafe { libc::poll(&mut fd, 1, ms) };
    if n < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(n > 0 && fd.revents & events != 0)
}
