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
    /// Makes head office's own NATS user key: its seed into SEED_OUT (mode
    /// 600, never overwritten), and prints its entry for nats-server.
    OfficeKey {
        #[arg(long)]
        seed_out: PathBuf,
    },
    /// Who may sign in to head office's page (needs --config).
    #[command(subcommand)]
    User(UserCommand),
}

#[derive(Subcommand)]
enum UserCommand {
    /// Add a user; the password is asked twice without echo (or read from stdin).
    Add {
        /// The name they sign in with: letters, digits, '.', '-' or '_'.
        name: String,
    },
    /// Set a user's password (asked as for add): it lifts a lock, enables
    /// a disabled account and ends the user's sessions.
    Password { name: String },
    /// Disable a user: their sessions end and they cannot sign in.
    Disable { name: String },
}

/// Runs a user command against the database in `config`.
async fn user_command(config: Option<PathBuf>, command: UserCommand) -> anyhow::Result<()> {
    use head_office::users;
    let Some(path) = config else {
        anyhow::bail!("give --config FILE: the user is kept in head office's database");
    };
    let cfg = head_office::config::Config::load(&path).map_err(|e| anyhow::anyhow!("{e}"))?;
    let pool = head_office::db::open(&cfg.postgres, 1).await?;
    let new_hash = |name: &str| -> anyhow::Result<String> {
        let password = queue_server::admin::read_new_secret(
            "password",
            &format!(
                "password for {name} (at least {} characters): ",
                queue_server::hall::managers::PASSWORD_MIN
            ),
        )?;
        users::valid_account(name, &password)?;
        queue_server::signin::hash_pin(&password).map_err(|e| anyhow::anyhow!("{e}"))
    };
    match command {
        UserCommand::Add { name } => {
            users::add(&pool, &name, &new_hash(&name)?).await?;
            println!(
                "added {name}; they sign in on head office's page with their name and password"
            );
        }
        UserCommand::Password { name } => {
            users::set_password(&pool, &name, &new_hash(&name)?).await?;
            println!("{name}'s password is set; their other sessions have ended");
        }
        UserCommand::Disable { name } => {
            users::disable(&pool, &name).await?;
            println!("{name} is disabled and signed out everywhere");
        }
    }
    Ok(())
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
    if let Some(Command::OfficeKey { seed_out }) = cli.command {
        println!("{}", head_office::keys::office_key(&seed_out)?);
        return Ok(());
    }
    if let Some(Command::User(command)) = cli.command {
        return user_command(cli.config, command).await;
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
