use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use clap::{Parser, Subcommand};
use queue_server::config::Config;
use queue_server::tokens;

/// The hall's queue server: tickets, counters and the live event stream.
#[derive(Parser)]
#[command(version, about)]
struct Cli {
    /// The hall configuration (TOML). Without it the embedded demo hall runs.
    #[arg(long, env = "QUEUE_CONFIG", global = true)]
    config: Option<PathBuf>,
    /// The SQLite database file [default: $STATE_DIRECTORY/hall.db or ~/.local/share/queue-server/hall.db].
    #[arg(long, env = "QUEUE_DB", global = true)]
    db: Option<PathBuf>,
    /// Address to listen on.
    #[arg(long, env = "QUEUE_LISTEN", default_value = "127.0.0.1:8080")]
    listen: SocketAddr,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Copy the database to FILE while the server keeps running; with
    /// --into DIR, to a new dated file there, checked, and backups older
    /// than the retention period or beyond backup.keep removed.
    Backup {
        #[arg(required_unless_present = "into", conflicts_with = "into")]
        file: Option<PathBuf>,
        #[arg(long)]
        into: Option<PathBuf>,
    },
    /// Replace the database with the backup FILE (the server must be
    /// stopped): the backup is checked first, and the database it replaces
    /// is kept aside as <db>.before-restore-<time>.
    Restore { file: PathBuf },
    /// Check the configuration and exit.
    CheckConfig,
    /// Write a first hall configuration to OUT (the demo hall's shape with
    /// fresh device tokens, kept there only as hashes) and the tokens in
    /// clear to TOKENS, readable by its owner only. Never overwrites.
    InitConfig {
        #[arg(long)]
        out: PathBuf,
        #[arg(long)]
        tokens: PathBuf,
    },
    /// Write chrony's sources file (--out, for example
    /// /etc/chrony/sources.d/hall-queue.sources) from [time] servers, when
    /// it does not hold them already; the hall-queue-time unit runs this.
    TimeSources {
        #[arg(long)]
        out: PathBuf,
    },
    /// Print the token_sha256 for a device token, to keep tokens out of the config file.
    HashToken { token: String },
    /// Staff accounts (the manager's API does the same while the server runs).
    #[command(subcommand)]
    Staff(StaffCommand),
    /// Manager accounts for the console at /manager (managers add more there).
    #[command(subcommand)]
    Manager(ManagerCommand),
}

#[derive(Subcommand)]
enum ManagerCommand {
    /// Add a manager; the password is asked twice without echo (or read from stdin).
    Add {
        /// The name they sign in with: letters, digits, '.', '-' or '_'.
        name: String,
    },
}

#[derive(Subcommand)]
enum StaffCommand {
    /// Add a member of staff; the PIN is asked without echo (or read from stdin).
    Add {
        /// The staff number (工号): letters, digits, '-' or '_'.
        number: String,
        /// The name shown on the counter page and in reports.
        name: String,
    },
}

fn load_config(path: Option<&PathBuf>) -> anyhow::Result<Config> {
    match path {
        Some(p) => Config::load(p).map_err(|e| anyhow::anyhow!("{e}")),
        None => {
            tracing::warn!(
                "no --config given: running the embedded DEMO hall with public demo tokens"
            );
            Ok(Config::demo())
        }
    }
}

/// glibc gives every thread that allocates its own arena, and each keeps
/// what it once held: with 12 threads the server grew past 30 MB under the
/// bench. Two arenas kept it near 26 MB at no throughput cost the bench
/// could tell from its run-to-run noise.
fn limit_malloc_arenas() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only sets an allocator tunable; called before any
    // other thread exists.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, 2);
    }
}

/// The soft limit on open files is often 1024 while the hard limit allows
/// far more: take what is allowed, since every connection is one (the
/// connection ceiling in `http` follows whatever this leaves).
fn raise_open_files_limit() {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit and setrlimit read and write the struct given.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) == 0 && limit.rlim_cur < limit.rlim_max
        {
            limit.rlim_cur = limit.rlim_max.min(65_536);
            libc::setrlimit(libc::RLIMIT_NOFILE, &limit);
        }
    }
}

/// Writes a file that must not exist yet, with `mode` from the start (a
/// secret is never readable by others, not even for a moment).
fn write_new(path: &std::path::Path, text: &str, mode: u32) -> anyhow::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(mode)
        .open(path)
        .map_err(|e| match e.kind() {
            std::io::ErrorKind::AlreadyExists => anyhow::anyhow!(
                "{} exists already; init-config never overwrites (move it away to start afresh)",
                path.display()
            ),
            _ => anyhow::anyhow!("cannot write {}: {e}", path.display()),
        })?;
    file.write_all(text.as_bytes())?;
    file.sync_all()?;
    Ok(())
}

fn main() -> std::process::ExitCode {
    limit_malloc_arenas();
    raise_open_files_limit();
    hall_api::logging::init();
    match run(Cli::parse()) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("queue-server: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<()> {
    let db = cli.db.clone().unwrap_or_else(queue_server::default_db_path);
    match cli.command {
        Some(Command::HashToken { token }) => {
            println!(
                "token_sha256 = \"{}\"",
                tokens::to_hex(&tokens::sha256(&token))
            );
            Ok(())
        }
        Some(Command::CheckConfig) => {
            let c = load_config(cli.config.as_ref())?;
            println!(
                "configuration OK: {} services, {} counters, {} devices",
                c.services.len(),
                c.counters.len(),
                c.devices.len()
            );
            Ok(())
        }
        Some(Command::TimeSources { out }) => {
            use queue_server::time_sources;
            let c = load_config(cli.config.as_ref())?;
            let text = time_sources::chrony_sources(&c.time_servers);
            let wrote = time_sources::write_if_changed(&out, &text)
                .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", out.display()))?;
            let servers = match c.time_servers.len() {
                0 => "no time servers of the hall's (chrony keeps its own)".to_string(),
                n => format!("{n} time servers ({})", c.time_servers.join(", ")),
            };
            match wrote {
                true => println!("wrote {}: {servers}", out.display()),
                false => println!("{} is up to date: {servers}", out.display()),
            }
            Ok(())
        }
        Some(Command::InitConfig { out, tokens }) => {
            use queue_server::config::generate;
            let made = generate::from_demo(|| Ok(tokens::random_hex::<16>("device token")?))?;
            write_new(&tokens, &generate::tokens_file(&made), 0o600)?;
            if let Err(e) = write_new(&out, &made.toml, 0o640) {
                // Tokens for a configuration that was never written are no use.
                let _ = std::fs::remove_file(&tokens);
                return Err(e);
            }
            println!(
                "wrote {} ({} devices, tokens kept as hashes) and their tokens to {}",
                out.display(),
                made.tokens.len(),
                tokens.display()
            );
            Ok(())
        }
        Some(Command::Staff(StaffCommand::Add { number, name })) => {
            let hall = load_config(cli.config.as_ref())?;
            queue_server::admin::add_staff(&db, &hall, &number, &name)?;
            println!(
                "added {number} {name}; they sign in at a counter with their staff number and PIN"
            );
            Ok(())
        }
        Some(Command::Manager(ManagerCommand::Add { name })) => {
            let hall = load_config(cli.config.as_ref())?;
            queue_server::admin::add_manager(&db, &hall, &name)?;
            println!("added manager {name}; they sign in at /manager with their name and password");
            Ok(())
        }
        Some(Command::Backup {
            file: Some(file), ..
        }) => {
            queue_server::store::schema::backup(&db, &file)?;
            println!("backed up {} to {}", db.display(), file.display());
            Ok(())
        }
        Some(Command::Backup {
            into: Some(dir), ..
        }) => {
            let hall = load_config(cli.config.as_ref())?;
            use queue_server::store::backups::{Removal, rotate_into};
            let made = rotate_into(&db, &dir, hall.retention_days, hall.backups_kept)?;
            println!("backed up {} to {}", db.display(), made.written.display());
            for (old, why) in made.removed {
                let why = match why {
                    Removal::PastRetention => {
                        format!("older than {} days", hall.retention_days)
                    }
                    Removal::BeyondCount => {
                        format!("only the newest {} are kept", hall.backups_kept)
                    }
                };
                println!("removed {} ({why})", old.display());
            }
            Ok(())
        }
        Some(Command::Restore { file }) => {
            let done = queue_server::store::restore::restore(&file, &db)?;
            let s = &done.summary;
            println!(
                "restored {} to {}: {} tickets{}, schema version {}{}",
                file.display(),
                db.display(),
                s.tickets,
                s.last_day
                    .as_ref()
                    .map(|d| format!(", the last of {d}"))
                    .unwrap_or_default(),
                s.schema_version,
                if s.schema_version < queue_server::store::schema::current_version() {
                    " (migrated when the server starts)"
                } else {
                    ""
                }
            );
            if let Some(old) = &done.kept_aside {
                println!("the database it replaced is kept at {}", old.display());
            }
            println!("start the server again (systemctl start queue-server)");
            Ok(())
        }
        Some(Command::Backup { .. }) => unreachable!("clap requires a file or --into"),
        None => {
            let hall = Arc::new(load_config(cli.config.as_ref())?);
            // Blocking threads only run database reads, on a handful of
            // connections: more threads would only wait, each with its own
            // stack and allocator arena.
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .max_blocking_threads(queue_server::READ_CONNECTIONS)
                .build()?;
            queue_server::refuse_plain_http_on_the_network(&hall, cli.listen)?;
            runtime.block_on(async move {
                let listener = tokio::net::TcpListener::bind(cli.listen)
                    .await
                    .map_err(|e| {
                        anyhow::anyhow!(
                            "cannot listen on {}: {e}; is another server running there?",
                            cli.listen
                        )
                    })?;
                queue_server::serve(hall, &db, listener, queue_server::shutdown_signal()).await
            })
        }
    }
}
