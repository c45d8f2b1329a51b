//! Putting a backup back as the hall database. Nothing is touched until
//! the file has passed its checks (a whole SQLite database, a hall's, of a
//! schema this server can run), the server must be stopped, and the
//! database it replaces is kept aside, never deleted.

use std::path::{Path, PathBuf};

use rusqlite::{Connection, ErrorCode};

use crate::store::schema;

/// What a backup holds, as checked.
#[derive(Debug)]
pub struct BackupSummary {
    pub schema_version: usize,
    pub tickets: i64,
    /// The last business day with a ticket.
    pub last_day: Option<String>,
}

/// What a restore did.
#[derive(Debug)]
pub struct Restored {
    pub summary: BackupSummary,
    /// Where the database it replaced is now; `None`: there was none.
    pub kept_aside: Option<PathBuf>,
}

const SQLITE_HEADER: &[u8; 16] = b"SQLite format 3\0";

/// Replaces the database at `db` with the backup `file`.
pub fn restore(file: &Path, db: &Path) -> anyhow::Result<Restored> {
    check_header(file)?;
    let current = if db.exists() {
        Some(lock_unused(db)?)
    } else {
        None
    };
    // The copy is what gets checked and then renamed into place, so what
    // was checked is exactly what the server will open.
    let incoming = with_suffix(db, ".restoring");
    copy_synced(file, &incoming)?;
    let summary = match check_copy(&incoming) {
        Ok(s) => s,
        Err(e) => {
            let _ = std::fs::remove_file(&incoming);
            return Err(e.context(format!(
                "{} was not restored; the hall database is unchanged",
                file.display()
            )));
        }
    };
    let kept_aside = match current {
        None => None,
        Some(lock) => Some(set_aside(db, lock)?),
    };
    std::fs::rename(&incoming, db).map_err(|e| {
        anyhow::anyhow!(
            "cannot move the restored copy {} to {}: {e}",
            incoming.display(),
            db.display()
        )
    })?;
    if let Some(old) = &kept_aside {
        keep_owner(old, db)?;
    }
    sync_dir(db)?;
    Ok(Restored {
        summary,
        kept_aside,
    })
}

fn check_header(file: &Path) -> anyhow::Result<()> {
    use std::io::Read;
    let shown = file.display();
    let mut header = [0u8; 16];
    match std::fs::File::open(file).and_then(|mut f| f.read_exact(&mut header)) {
        Ok(()) if &header == SQLITE_HEADER => Ok(()),
        Ok(()) => anyhow::bail!("{shown} is not a hall backup: it is not a SQLite database"),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => anyhow::bail!(
            "there is no file {shown}; give the path of a backup (ls -t /var/lib/queue-server/backups/ lists them, newest first)"
        ),
        Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => {
            anyhow::bail!("{shown} is not a hall backup: it is too short to be a SQLite database")
        }
        Err(e) => anyhow::bail!("cannot read {shown}: {e}"),
    }
}

/// An open connection holding the current database exclusively, so no
/// server can start on it while it is replaced. `None` inside: the file is
/// too damaged to open, which is why one restores.
struct CurrentLock {
    _held: Option<Connection>,
}

fn lock_unused(db: &Path) -> anyhow::Result<CurrentLock> {
    let in_use = || {
        anyhow::anyhow!(
            "the hall database {} is in use: stop the server first (systemctl stop queue-server), then restore",
            db.display()
        )
    };
    let conn = Connection::open(db)?;
    // A server's connections hold a shared lock on the file for as long as
    // they are open, so an exclusive lock is refused while it runs.
    let locked = conn
        .pragma_update(None, "locking_mode", "EXCLUSIVE")
        .and_then(|()| conn.execute_batch("BEGIN EXCLUSIVE; COMMIT;"));
    match locked {
        Ok(()) => {
            // Fold the WAL into the file, so what is set aside is whole.
            conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
            Ok(CurrentLock { _held: Some(conn) })
        }
        Err(e) => match e.sqlite_error_code() {
            Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) => Err(in_use()),
            Some(ErrorCode::DatabaseCorrupt | ErrorCode::NotADatabase) => {
                Ok(CurrentLock { _held: None })
            }
            _ => Err(schema::explain(db, &e)),
        },
    }
}

/// Moves the database (and any WAL beside it, which must never be applied
/// to the restored file) to `<db>.before-restore-<UTC time>`.
fn set_aside(db: &Path, lock: CurrentLock) -> anyhow::Result<PathBuf> {
    let stamp = jiff::Timestamp::now().strftime("%Y%m%d-%H%M%S");
    let aside = with_suffix(db, &format!(".before-restore-{stamp}"));
    std::fs::rename(db, &aside).map_err(|e| {
        anyhow::anyhow!(
            "cannot move {} aside to {}: {e}",
            db.display(),
            aside.display()
        )
    })?;
    // Closed only now: the lock kept a server from opening the old file
    // until it was out of the way.
    drop(lock);
    for ext in ["-wal", "-shm"] {
        let side = with_suffix(db, ext);
        if side.exists() {
            std::fs::rename(&side, with_suffix(&aside, ext))?;
        }
    }
    Ok(aside)
}

fn check_copy(copy: &Path) -> anyhow::Result<BackupSummary> {
    let not_a_hall =
        |what: &str| anyhow::anyhow!("it is a SQLite database, but not a hall's ({what})");
    let conn = Connection::open(copy)?;
    let verdict: String = conn
        .query_row("PRAGMA integrity_check(1)", [], |r| r.get(0))
        .map_err(|e| anyhow::anyhow!("it is damaged ({e}); choose an older backup"))?;
    if verdict != "ok" {
        anyhow::bail!("it is damaged ({verdict}); choose an older backup");
    }
    let version: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
    let version = usize::try_from(version).unwrap_or(usize::MAX);
    if version > schema::current_version() {
        anyhow::bail!(
            "it was made by a newer queue-server (schema version {version}; this one runs up to {}): install that version or a newer one, then restore",
            schema::current_version()
        );
    }
    let tables: i64 = conn.query_row(
        "SELECT COUNT(*) FROM sqlite_schema WHERE type = 'table' AND name IN ('tickets', 'events', 'ticket_numbers')",
        [],
        |r| r.get(0),
    )?;
    if version == 0 || tables != 3 {
        return Err(not_a_hall("no tickets, events and numbering tables"));
    }
    let (tickets, last_day) =
        conn.query_row("SELECT COUNT(*), MAX(business_day) FROM tickets", [], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })?;
    Ok(BackupSummary {
        schema_version: version,
        tickets,
        last_day,
    })
}

fn copy_synced(from: &Path, to: &Path) -> anyhow::Result<()> {
    let _ = std::fs::remove_file(to);
    std::fs::copy(from, to)
        .and_then(|_| std::fs::File::open(to)?.sync_all())
        .map_err(|e| {
            anyhow::anyhow!(
                "cannot copy {} to {}: {e}; check the space and the permissions there",
                from.display(),
                to.display()
            )
        })
}

/// The restored file belongs to whoever owned the one it replaced (root
/// restores for the service user).
fn keep_owner(old: &Path, new: &Path) -> anyhow::Result<()> {
    use std::os::unix::fs::MetadataExt;
    let meta = std::fs::metadata(old)?;
    if std::fs::metadata(new)?.uid() != meta.uid() {
        std::os::unix::fs::chown(new, Some(meta.uid()), Some(meta.gid())).map_err(|e| {
            anyhow::anyhow!(
                "restored, but cannot give {} to its owner ({e}): chown it to the service user",
                new.display()
            )
        })?;
    }
    Ok(())
}

/// The renames are durable only once the folder is written.
fn sync_dir(db: &Path) -> anyhow::Result<()> {
    let dir = db
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::File::open(dir)?.sync_all()?;
    Ok(())
}

fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut s = path.as_os_str().to_owned();
    s.push(suffix);
    PathBuf::from(s)
}
