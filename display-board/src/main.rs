//! `display-board announce`: says a call the way the hall hears it, on the
//! speaker or into a WAV file (for installers to listen to, and for tests).

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;
use clap::{Parser, Subcommand};
use display_board::clips::Clips;
use display_board::config::BoardConfig;
use display_board::voice::Announcer;
use hall_api::Lang;

#[derive(Parser)]
#[command(version, about = "The hall's call-out board and voice")]
struct Cli {
    /// The board's configuration (TOML); the built-in demo configuration when absent.
    #[arg(long, env = "BOARD_CONFIG")]
    config: Option<PathBuf>,
    /// The queue-server, e.g. http://127.0.0.1:8080.
    #[arg(long)]
    server: Option<String>,
    /// This board's device token.
    #[arg(long, env = "BOARD_TOKEN")]
    token: Option<String>,
    /// Fill the screen (on a desktop session; the linuxkms backend always does).
    #[arg(long)]
    fullscreen: bool,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Announce one call: "请 A012 号到 3 号窗口" / "Ticket A012, please go to counter 3".
    Announce {
        #[arg(long)]
        ticket: String,
        #[arg(long)]
        counter: u32,
        /// Languages in the order spoken, e.g. zh,en.
        #[arg(long, default_value = "zh,en", value_delimiter = ',')]
        lang: Vec<String>,
        /// The folder with manifest.toml and the clips.
        #[arg(long, default_value = "sounds")]
        sounds: PathBuf,
        /// 1.0 plays the clips as recorded.
        #[arg(long, default_value_t = 1.0)]
        volume: f32,
        /// Write the announcement to this WAV file instead of the speaker.
        #[arg(long)]
        wav: Option<PathBuf>,
    },
    /// Show a text on one counter LED display and wait for its answer.
    Led {
        /// The serial port, e.g. /dev/ttyUSB0 (an RS-485 adapter).
        #[arg(long)]
        port: String,
        #[arg(long, default_value_t = 9600)]
        baud: u32,
        /// The display's address on the bus (0–99).
        #[arg(long)]
        address: u8,
        /// What to show, e.g. A012 or 暂停服务.
        #[arg(long)]
        text: String,
        /// The display's character set: ascii, or gb2312 for Chinese.
        #[arg(long, default_value = "ascii", value_parser = parse_charset)]
        charset: display_board::led::Charset,
    },
}

fn parse_charset(s: &str) -> Result<display_board::led::Charset, String> {
    match s {
        "ascii" => Ok(display_board::led::Charset::Ascii),
        "gb2312" => Ok(display_board::led::Charset::Gb2312),
        _ => Err(format!(
            "\"{s}\" is not a display character set; use ascii or gb2312"
        )),
    }
}

fn main() -> std::process::ExitCode {
    hall_api::logging::init();
    match run(Cli::parse()) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("display-board: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<()> {
    let Some(command) = cli.command else {
        let mut config = match &cli.config {
            Some(path) => BoardConfig::load(path)?,
            None => BoardConfig::default_config(),
        };
        if let Some(server) = cli.server {
            config.server.url = server;
        }
        if let Some(token) = cli.token {
            config.server.token = token;
        }
        return run_board(config, cli.fullscreen);
    };
    match command {
        Command::Led {
            port,
            baud,
            address,
            text,
            charset,
        } => {
            let bytes = display_board::led::encode(&text, charset);
            let acknowledged = display_board::led::show_once(
                &port,
                baud,
                &display_board::led::StxFrame,
                address,
                &bytes,
            )
            .with_context(|| format!("cannot use {port}"))?;
            if !acknowledged {
                anyhow::bail!(
                    "display {address} on {port} did not acknowledge; check its address, the speed ({baud}) and the A/B wires"
                );
            }
            println!("display {address} on {port} shows {text}");
            Ok(())
        }
        Command::Announce {
            ticket,
            counter,
            lang,
            sounds,
            volume,
            wav,
        } => {
            let langs = lang
                .iter()
                .map(|l| {
                    Lang::parse(l)
                        .ok_or_else(|| anyhow::anyhow!("--lang {l}: give zh, en or zh,en"))
                })
                .collect::<anyhow::Result<Vec<_>>>()?;
            if !(0.0..=4.0).contains(&volume) {
                anyhow::bail!("--volume {volume}: give 0 (silent) to 4; 1 plays as recorded");
            }
            let clips = Arc::new(Clips::load(&sounds)?);
            let rate = clips.rate();
            let announcer = match &wav {
                Some(_) => Announcer::collecting(clips, langs),
                None => Announcer::speaker(clips, langs, volume),
            };
            announcer.say(&ticket, counter)?;
            let samples = announcer.finish();
            if let Some(path) = wav {
                let samples: Vec<f32> = samples.iter().map(|s| s * volume).collect();
                let seconds = samples.len() as f64 / f64::from(rate);
                let source = rodio::buffer::SamplesBuffer::new(
                    std::num::NonZero::new(1).expect("1 is not zero"),
                    std::num::NonZero::new(rate).context("the clips have no sample rate")?,
                    samples,
                );
                rodio::wav_to_file(source, &path)
                    .with_context(|| format!("writing {}", path.display()))?;
                println!("wrote {} ({seconds:.2} s)", path.display());
            }
            Ok(())
        }
    }
}

fn run_board(config: BoardConfig, fullscreen: bool) -> anyhow::Result<()> {
    use std::collections::HashMap;
    use std::rc::Rc;

    use display_board::led::{LedPort, StxFrame};
    use display_board::live::{Board, CounterLed};
    use slint::ComponentHandle;

    tracing::info!(server = %config.server.url, "display board starting");
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()?;
    let announcer = if config.voice.volume > 0.0 {
        let clips = Arc::new(Clips::load(&config.voice.sounds)?);
        Some(Announcer::speaker(
            clips,
            config.voice.languages.clone(),
            config.voice.volume,
        ))
    } else {
        None
    };
    let mut leds = HashMap::new();
    for bus in &config.led {
        let port = Rc::new(LedPort::start(
            bus.port.clone(),
            bus.baud,
            Box::new(StxFrame),
        ));
        for c in &bus.counters {
            leds.insert(
                c.counter,
                CounterLed {
                    port: port.clone(),
                    address: c.address,
                    charset: c.charset,
                },
            );
        }
    }
    let ui = display_board::BoardWindow::new().context(
        "cannot open the board's window; on a Pi without a desktop set SLINT_BACKEND=linuxkms, on a desktop check DISPLAY",
    )?;
    ui.window().set_size(slint::LogicalSize::new(
        config.screen.width as f32,
        config.screen.height as f32,
    ));
    if fullscreen {
        ui.window().set_fullscreen(true);
    }
    ui.set_notice(config.screen.notice.as_str().into());
    let client = hall_api::client::HallClient::for_device(
        &config.server.url,
        &config.server.token,
        config.server.ca.as_deref(),
    )?;
    let _board = Board::start(&ui, client, announcer, leds, runtime.handle());
    ui.run()?;
    Ok(())
}
