//! `kiosk`: the hall's ticket touch screen. With no arguments it runs
//! against the README's demo server; `kiosk test-print` prints a sample
//! ticket for installers; `kiosk decode` shows what a `file:` printer got.

use std::path::PathBuf;

use anyhow::Context;
use clap::{Args, Parser, Subcommand};
use hall_api::Lang;
use kiosk::config::{ChineseMode, KioskConfig};
use kiosk::printer::receipt::Receipt;
use kiosk::{KioskWindow, app::Kiosk, printer_from};
use slint::ComponentHandle;

#[derive(Parser)]
#[command(
    version,
    about = "The hall's ticket kiosk: touch a service, take a printed ticket"
)]
struct Cli {
    #[command(flatten)]
    run: RunArgs,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Args)]
struct RunArgs {
    /// The kiosk's configuration (TOML); the built-in demo configuration when absent.
    #[arg(long, global = true, env = "KIOSK_CONFIG")]
    config: Option<PathBuf>,
    /// The queue-server, e.g. http://127.0.0.1:8080.
    #[arg(long)]
    server: Option<String>,
    /// This kiosk's device token.
    #[arg(long, env = "KIOSK_TOKEN")]
    token: Option<String>,
    /// serial:/dev/ttyUSB0?baud=19200, usb:/dev/usb/lp0, tcp:HOST:9100 or file:PATH.
    #[arg(long, global = true)]
    printer: Option<String>,
    /// Fill the screen (on a desktop session; the linuxkms backend always does).
    #[arg(long)]
    fullscreen: bool,
}

#[derive(Subcommand)]
enum Command {
    /// Print a sample ticket, to check the printer, paper and Chinese text.
    TestPrint {
        /// Paper width in mm (58 or 80); the configuration's when absent.
        #[arg(long)]
        paper: Option<u32>,
        /// gb18030 or raster; the configuration's when absent.
        #[arg(long)]
        chinese: Option<String>,
    },
    /// Show what an ESC/POS file (from a file: printer) would print.
    Decode { file: PathBuf },
}

fn main() -> std::process::ExitCode {
    hall_api::logging::init();
    match run(Cli::parse()) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("kiosk: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<()> {
    let mut config = match &cli.run.config {
        Some(path) => KioskConfig::load(path)?,
        None => KioskConfig::default_config(),
    };
    if let Some(server) = cli.run.server {
        config.server.url = server;
    }
    if let Some(token) = cli.run.token {
        config.server.token = token;
    }
    if let Some(printer) = cli.run.printer {
        config.printer.device = printer;
    }
    // A --server given here is checked like one from the file.
    hall_api::client::HallClient::for_device(
        &config.server.url,
        &config.server.token,
        config.server.ca.as_deref(),
    )?;
    match cli.command {
        None => run_kiosk(config, cli.run.fullscreen),
        Some(Command::TestPrint { paper, chinese }) => {
            if let Some(p) = paper {
                config.printer.paper_mm = p;
            }
            if let Some(c) = chinese {
                config.printer.chinese = match c.as_str() {
                    "gb18030" => ChineseMode::Gb18030,
                    "raster" => ChineseMode::Raster,
                    other => anyhow::bail!("--chinese {other}: give gb18030 or raster"),
                };
            }
            test_print(&config)
        }
        Some(Command::Decode { file }) => {
            let bytes =
                std::fs::read(&file).with_context(|| format!("reading {}", file.display()))?;
            let decoded = kiosk::printer::decode::decode(&bytes)?;
            print!("{decoded}");
            Ok(())
        }
    }
}

fn run_kiosk(config: KioskConfig, fullscreen: bool) -> anyhow::Result<()> {
    let started = std::time::Instant::now();
    let printer = printer_from(&config)?;
    tracing::info!(server = %config.server.url, printer = %printer.spec, "kiosk starting");
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .max_blocking_threads(2)
        .enable_all()
        .build()?;
    let ui = KioskWindow::new().context(
        "cannot open the kiosk's window; on a Pi without a desktop set SLINT_BACKEND=linuxkms, on a desktop check DISPLAY",
    )?;
    ui.window().set_size(slint::LogicalSize::new(
        config.screen.width as f32,
        config.screen.height as f32,
    ));
    if fullscreen {
        ui.window().set_fullscreen(true);
    }
    let _kiosk = Kiosk::start(&ui, config, printer, runtime.handle().clone());
    log_first_frame(&ui, started);
    ui.run()?;
    Ok(())
}

/// Logs how long the kiosk took from start to its first frame on screen.
fn log_first_frame(ui: &KioskWindow, started: std::time::Instant) {
    let done = std::rc::Rc::new(std::cell::Cell::new(false));
    let once = done.clone();
    // Only renderers with a notifier (femtovg) can tell; the software
    // renderer cannot, and then nothing is logged.
    let _ = ui.window().set_rendering_notifier(move |state, _| {
        if matches!(state, slint::RenderingState::AfterRendering) && !once.replace(true) {
            tracing::info!(ms = started.elapsed().as_millis(), "first frame drawn");
        }
    });
}

/// Prints the sample ticket, for installers.
fn test_print(config: &KioskConfig) -> anyhow::Result<()> {
    let printer = printer_from(config)?;
    let receipt = Receipt::sample(
        jiff::Zoned::now().strftime("%Y-%m-%d %H:%M").to_string(),
        format!("{}/t/TEST-PRINT", config.server.url),
        Lang::Zh,
    );
    println!("printer {}: asking its status…", printer.spec);
    println!("status: {:?}", printer.status());
    let after = printer.print(&receipt)?;
    println!("printed a sample ticket; the printer now reports {after:?}");
    Ok(())
}
