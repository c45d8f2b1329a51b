//! Commands an installer or manager runs at the appliance's terminal,
//! beside a running server or without one: SQLite lets a second writer in
//! between the server's commits. They go through the same hall commands
//! (`crate::hall`) as the API, so the same rules hold.

use std::io::{BufRead, IsTerminal};
use std::path::Path;

use crate::config::{Config, Role};
use crate::hall::{Actor, Hall};
use crate::store::{queries, schema, tables::Tables};

/// Reads a new secret (`what`: "PIN", "password"): at a terminal twice
/// without echo, else one line of stdin.
pub fn read_new_secret(what: &str, prompt: &str) -> anyhow::Result<String> {
    if std::io::stdin().is_terminal() {
        let first = rpassword::prompt_password(prompt)?;
        let again = rpassword::prompt_password(format!("the same {what} again: "))?;
        if first != again {
            anyhow::bail!("the two {what}s differ; nothing was changed");
        }
        Ok(first)
    } else {
        let mut line = String::new();
        std::io::stdin().lock().read_line(&mut line)?;
        Ok(line.trim_end_matches(['\r', '\n']).to_string())
    }
}

/// Reads a new PIN: at a terminal twice without echo, else one line of stdin.
pub fn read_new_pin(for_whom: &str) -> anyhow::Result<String> {
    let pin = read_new_secret("PIN", &format!("PIN for {for_whom} (4 to 8 digits): "))?;
    let pin = pin.trim().to_string();
    crate::api::station::valid_pin(&pin).map_err(|e| anyhow::anyhow!("{e}"))?;
    Ok(pin)
}

/// Runs one hall command in its own transaction on the database at `db`.
fn run<T>(
    db: &Path,
    hall: &Config,
    command: impl FnOnce(&mut Hall<'_>) -> crate::error::Result<T>,
) -> anyhow::Result<T> {
    let conn = schema::open_writer(db)?;
    let tx = conn.unchecked_transaction()?;
    let last = queries::last_event(&tx)?;
    let newest = last.map(|(_, at)| queries::ts(at));
    let mut next_event_id = last.map_or(1, |(id, _)| id + 1);
    let actor = Actor::device("queue-server (terminal)", Role::Manager);
    let now = crate::clock::HallClock::new(newest).read();
    let mut h = Hall::new(Tables::new(&tx), hall, now, &actor, &mut next_event_id);
    let answer = command(&mut h).map_err(|e| anyhow::anyhow!("{e}"))?;
    if !h.into_events().0.is_empty() {
        // Events belong to the server's own writer (their ids are gapless
        // and announced live); these commands must not make any.
        anyhow::bail!("this command would record events; use the API while the server runs");
    }
    tx.commit()?;
    Ok(answer)
}

pub fn add_staff(db: &Path, hall: &Config, number: &str, name: &str) -> anyhow::Result<()> {
    crate::hall::staff::valid_staff_number(number).map_err(|e| anyhow::anyhow!("{e}"))?;
    let pin = read_new_pin(&format!("{number} {name}"))?;
    let hash = crate::signin::hash_pin(&pin).map_err(|e| anyhow::anyhow!("{e}"))?;
    run(db, hall, |h| h.add_staff(number, name, &hash))?;
    Ok(())
}

pub fn add_manager(db: &Path, hall: &Config, name: &str) -> anyhow::Result<()> {
    use crate::hall::managers::{PASSWORD_MIN, valid_manager_name, valid_password};
    valid_manager_name(name).map_err(|e| anyhow::anyhow!("{e}"))?;
    let password = read_new_secret(
        "password",
        &format!("password for {name} (at least {PASSWORD_MIN} characters): "),
    )?;
    valid_password(&password).map_err(|e| anyhow::anyhow!("{e}"))?;
    let hash = crate::signin::hash_pin(&password).map_err(|e| anyhow::anyhow!("{e}"))?;
    run(db, hall, |h| h.add_manager(name, &hash))?;
    Ok(())
}
