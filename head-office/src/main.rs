//! head-office: the company's server. `head-office --config FILE` runs
//! it; `head-office check-config FILE` only checks the file.

use std::path::PathBuf;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    version,
    about = "Head office: every hall's events into PostgreSQL, and the company's view"
)]
struct Cli {
    /// The configuration file (see the README).
    #[arg(long, env = "HEAD_OFFICE_CONFIG")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Checks a configuration file and says what is wrong, line by line.
    CheckConfig { file: PathBuf },
    /// Makes a hall's NATS user key: its seed into SEED_OUT (mode 600, for
    /// the hall's queue-server), and prints the entry for nats-server's
    /// configuration that lets it publish only under its own subjects.
    HallKey {
        hall_id: String,
        #[arg(long)]
        seed_out: PathBuf,
    },
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    hall_api::logging::init();
    let cli = Cli::parse();
    if let Some(Command::CheckConfig { file }) = cli.command {
        head_office::config::Config::load(&file).map_err(|e| anyhow::anyhow!("{e}"))?;
        println!("{}: ok", file.display());
        return Ok(());
    }
    if let Some(Command::HallKey { hall_id, seed_out }) = cli.command {
        let entry = head_office::keys::hall_key(&hall_id, &seed_out)?;
        println!("{entry}");
        return Ok(());
    }
    let Some(path) = cli.config else {
        anyhow::bail!("give --config FILE (head office's configuration; see the README)");
    };
    let cfg = head_office::config::Config::load(&path).map_err(|e| anyhow::anyhow!("{e}"))?;
    let listener = tokio::net::TcpListener::bind(cfg.listen)
        .await
        .map_err(|e| {
            anyhow::anyhow!(
                "cannot listen on {}: {e}; is another server running there?",
                cfg.listen
            )
        })?;
    head_office::serve(cfg, listener, queue_server::shutdown_signal()).await
}
