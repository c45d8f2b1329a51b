//! Opening the database and the versioned migrations, applied at start.

use std::path::Path;

use rusqlite::{Connection, OpenFlags};

/// Each entry moves the schema one version up; never edit a released one,
/// add a new one.
const MIGRATIONS: &[&str] = &[
    // 1: tickets, counters, numbering, the event log.
    r#"
    CREATE TABLE ticket_numbers (
        service      TEXT NOT NULL,
        business_day TEXT NOT NULL,
        last_number  INTEGER NOT NULL,
        PRIMARY KEY (service, business_day)
    ) WITHOUT ROWID;

    CREATE TABLE tickets (
        id               INTEGER PRIMARY KEY,
        number           TEXT NOT NULL,
        service          TEXT NOT NULL,
        business_day     TEXT NOT NULL,
        status           TEXT NOT NULL,
        -- 0 for the waiting entry a transfer made (called first), else 1
        rank_class       INTEGER NOT NULL,
        issued_at        INTEGER NOT NULL,   -- ms since epoch; kept across transfers
        created_at       INTEGER NOT NULL,
        called_at        INTEGER,
        started_at       INTEGER,
        ended_at         INTEGER,
        counter          INTEGER,
        recalls          INTEGER NOT NULL DEFAULT 0,
        channel          TEXT NOT NULL,
        idempotency_key  TEXT,
        tracking_code    TEXT NOT NULL,
        customer_ref     TEXT,
        lang             TEXT,
        transaction_ref  TEXT,
        transferred_from INTEGER REFERENCES tickets(id),
        transferred_to   INTEGER REFERENCES tickets(id)
    );
    CREATE UNIQUE INDEX tickets_idempotency ON tickets(channel, idempotency_key)
        WHERE idempotency_key IS NOT NULL;
    CREATE INDEX tickets_queue ON tickets(service, rank_class, issued_at, id)
        WHERE status = 'waiting';
    CREATE INDEX tickets_day ON tickets(business_day);
    CREATE INDEX tickets_finished ON tickets(service, ended_at) WHERE ended_at IS NOT NULL;
    CREATE INDEX tickets_tracking ON tickets(tracking_code);

    CREATE TABLE counters (
        number         INTEGER PRIMARY KEY,
        state          TEXT NOT NULL,
        current_ticket INTEGER REFERENCES tickets(id)
    );

    CREATE TABLE events (
        id           INTEGER PRIMARY KEY,
        at           INTEGER NOT NULL,
        business_day TEXT NOT NULL,
        kind         TEXT NOT NULL,
        ticket_id    INTEGER,
        counter      INTEGER,
        body         TEXT NOT NULL          -- the event as sent to clients
    );
    CREATE INDEX events_calls ON events(id) WHERE kind IN ('ticket.called', 'ticket.recalled');
    CREATE INDEX events_counter ON events(counter, id) WHERE kind LIKE 'counter.%';
    CREATE INDEX events_day ON events(business_day);
    "#,
    // 2: waiting counts per service, kept by triggers in the same
    // transaction as the ticket change, so the hot path reads one row
    // instead of counting the queue.
    r#"
    CREATE TABLE waiting_counts (
        service TEXT PRIMARY KEY,
        waiting INTEGER NOT NULL
    ) WITHOUT ROWID;
    INSERT INTO waiting_counts (service, waiting)
        SELECT service, COUNT(*) FROM tickets WHERE status = 'waiting' GROUP BY service;

    CREATE TRIGGER waiting_insert AFTER INSERT ON tickets WHEN NEW.status = 'waiting'
    BEGIN
        INSERT INTO waiting_counts (service, waiting) VALUES (NEW.service, 1)
            ON CONFLICT (service) DO UPDATE SET waiting = waiting + 1;
    END;
    CREATE TRIGGER waiting_leave AFTER UPDATE OF status ON tickets
        WHEN OLD.status = 'waiting' AND NEW.status <> 'waiting'
    BEGIN
        UPDATE waiting_counts SET waiting = waiting - 1 WHERE service = OLD.service;
    END;
    "#,
    // 3: the webhook outbox, written in the same transaction as its event.
    r#"
    CREATE TABLE webhook_outbox (
        id           INTEGER PRIMARY KEY,
        webhook      TEXT NOT NULL,
        event_id     INTEGER NOT NULL REFERENCES events(id),
        kind         TEXT NOT NULL,
        body         TEXT NOT NULL,
        created_at   INTEGER NOT NULL,
        attempts     INTEGER NOT NULL DEFAULT 0,
        last_error   TEXT,
        delivered_at INTEGER
    );
    CREATE INDEX webhook_pending ON webhook_outbox(webhook, id) WHERE delivered_at IS NULL;
    "#,
    // 4: counter PINs (Argon2 hashes) and the sessions a PIN sign-in opens.
    r#"
    CREATE TABLE counter_pins (
        counter  INTEGER PRIMARY KEY,
        pin_hash TEXT NOT NULL,
        set_at   INTEGER NOT NULL
    );
    CREATE TABLE sessions (
        token_sha256 BLOB PRIMARY KEY,
        counter      INTEGER NOT NULL,
        created_at   INTEGER NOT NULL,
        expires_at   INTEGER NOT NULL
    ) WITHOUT ROWID;
    "#,
    // 5: the row the health probe rewrites, to learn whether writes still
    // reach the disk while the hall is quiet.
    r#"
    CREATE TABLE health_probe (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        at INTEGER NOT NULL
    );
    "#,
    // 6: staff as people (disabled, never deleted: past days keep their
    // names), their attendance, pauses with a reason, held tickets.
    r#"
    CREATE TABLE staff (
        number      TEXT PRIMARY KEY,
        name        TEXT NOT NULL,
        pin_hash    TEXT NOT NULL,
        created_at  INTEGER NOT NULL,
        disabled_at INTEGER
    ) WITHOUT ROWID;
    -- One row per sign-in; signed_out_at stays NULL while signed in (an
    -- expired session counts until expires_at).
    CREATE TABLE attendance (
        id            INTEGER PRIMARY KEY,
        staff         TEXT NOT NULL REFERENCES staff(number),
        counter       INTEGER NOT NULL,
        signed_in_at  INTEGER NOT NULL,
        expires_at    INTEGER NOT NULL,
        signed_out_at INTEGER,
        ended_by      TEXT
    );
    CREATE INDEX attendance_open ON attendance(staff) WHERE signed_out_at IS NULL;
    CREATE INDEX attendance_time ON attendance(signed_in_at);
    ALTER TABLE sessions ADD COLUMN attendance_id INTEGER REFERENCES attendance(id);

    CREATE TABLE pauses (
        id         INTEGER PRIMARY KEY,
        counter    INTEGER NOT NULL,
        reason     TEXT NOT NULL,
        started_at INTEGER NOT NULL,
        ended_at   INTEGER
    );
    CREATE INDEX pauses_time ON pauses(started_at);
    CREATE INDEX pauses_open ON pauses(counter) WHERE ended_at IS NULL;

    ALTER TABLE tickets ADD COLUMN staff TEXT REFERENCES staff(number);
    ALTER TABLE tickets ADD COLUMN held_ms INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE tickets ADD COLUMN held_since INTEGER;
    CREATE INDEX tickets_held ON tickets(counter, id) WHERE status = 'held';
    "#,
    // 7: 好差评, one rating per ticket, and the follow-up of each bad one.
    r#"
    CREATE TABLE ratings (
        id              INTEGER PRIMARY KEY,
        ticket_id       INTEGER NOT NULL UNIQUE REFERENCES tickets(id),
        level           INTEGER NOT NULL CHECK (level BETWEEN 1 AND 5),
        reasons         TEXT NOT NULL,      -- JSON array of reason ids
        channel         TEXT NOT NULL,      -- rater | phone
        device          TEXT NOT NULL,
        business_day    TEXT NOT NULL,      -- the ticket's
        completed_at    INTEGER NOT NULL,
        rated_at        INTEGER NOT NULL
    );
    CREATE INDEX ratings_day ON ratings(business_day, id);
    CREATE TABLE follow_ups (
        id          INTEGER PRIMARY KEY,
        rating_id   INTEGER NOT NULL UNIQUE REFERENCES ratings(id),
        opened_at   INTEGER NOT NULL,
        due         TEXT NOT NULL,          -- the last working day, YYYY-MM-DD
        owner       TEXT,
        action      TEXT,
        called_back INTEGER NOT NULL DEFAULT 0,
        closed_at   INTEGER
    );
    CREATE INDEX follow_ups_open ON follow_ups(due) WHERE closed_at IS NULL;
    "#,
    // 8: who saw a customer's account number or amount due, and when.
    r#"
    CREATE TABLE access_log (
        id        INTEGER PRIMARY KEY,
        at        INTEGER NOT NULL,
        who       TEXT NOT NULL,      -- the device or session
        staff     TEXT,               -- the member of staff, when signed in as one
        ticket_id INTEGER REFERENCES tickets(id),
        what      TEXT NOT NULL       -- account_number | amount_due
    );
    CREATE INDEX access_log_at ON access_log(at);
    "#,
    // 9: the manager console: accounts, their sessions, the audit log of
    // what managers changed, and each day's report kept at its end.
    r#"
    CREATE TABLE managers (
        name          TEXT PRIMARY KEY,
        password_hash TEXT NOT NULL,
        created_at    INTEGER NOT NULL,
        created_by    TEXT NOT NULL,
        disabled_at   INTEGER,
        failed        INTEGER NOT NULL DEFAULT 0,  -- wrong passwords since the last good one
        locked_until  INTEGER
    ) WITHOUT ROWID;
    CREATE TABLE manager_sessions (
        token_sha256 BLOB PRIMARY KEY,
        manager      TEXT NOT NULL REFERENCES managers(name),
        created_at   INTEGER NOT NULL,
        expires_at   INTEGER NOT NULL
    ) WITHOUT ROWID;
    CREATE TABLE audit_log (
        id     INTEGER PRIMARY KEY,
        at     INTEGER NOT NULL,
        who    TEXT NOT NULL,
        action TEXT NOT NULL,
        detail TEXT NOT NULL
    );
    CREATE INDEX audit_log_at ON audit_log(at);
    CREATE TABLE day_reports (
        business_day TEXT PRIMARY KEY,
        made_at      INTEGER NOT NULL,
        report       TEXT NOT NULL,   -- the Report as JSON
        workbook     BLOB NOT NULL    -- the same as an Excel workbook
    ) WITHOUT ROWID;
    -- A service the manager closed for one business day.
    CREATE TABLE service_closures (
        service      TEXT NOT NULL,
        business_day TEXT NOT NULL,
        closed_at    INTEGER NOT NULL,
        closed_by    TEXT NOT NULL,
        PRIMARY KEY (service, business_day)
    ) WITHOUT ROWID;
    -- The notice the boards show, set by the manager (none: the board's own).
    CREATE TABLE hall_notice (
        id     INTEGER PRIMARY KEY CHECK (id = 1),
        zh     TEXT NOT NULL,
        en     TEXT NOT NULL,
        set_at INTEGER NOT NULL,
        set_by TEXT NOT NULL
    );
    "#,
    // 10: a ticket's own priority (a key account, or a reason the floor
    // guide gave), called before others of its service, and why.
    r#"
    ALTER TABLE tickets ADD COLUMN precedence INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE tickets ADD COLUMN priority_reason TEXT;
    DROP INDEX tickets_queue;
    CREATE INDEX tickets_queue ON tickets(service, precedence, rank_class, issued_at, id)
        WHERE status = 'waiting';
    "#,
    // 11: tickets taken before arriving. A remote ticket has a check-in
    // code and is not called until it is checked in; `remote_client` is a
    // hash of who took it (the per-client limit), removed with the other
    // personal fields after the retention period.
    r#"
    ALTER TABLE tickets ADD COLUMN check_in_code TEXT;
    ALTER TABLE tickets ADD COLUMN check_in_by INTEGER;
    ALTER TABLE tickets ADD COLUMN checked_in_at INTEGER;
    ALTER TABLE tickets ADD COLUMN remote_client TEXT;
    CREATE UNIQUE INDEX tickets_check_in ON tickets(business_day, check_in_code)
        WHERE check_in_code IS NOT NULL;
    CREATE INDEX tickets_remote_client ON tickets(business_day, remote_client)
        WHERE remote_client IS NOT NULL;
    "#,
    // 12: the floor guide: a member of staff's session on a handheld, and
    // the tickets it asks a kiosk to print (kept until printed or refused,
    // so a kiosk that restarts still prints what was waiting for it).
    r#"
    CREATE TABLE guide_sessions (
        token_sha256 BLOB PRIMARY KEY,
        staff        TEXT NOT NULL REFERENCES staff(number),
        created_at   INTEGER NOT NULL,
        expires_at   INTEGER NOT NULL
    ) WITHOUT ROWID;
    CREATE TABLE print_jobs (
        id           INTEGER PRIMARY KEY,
        kiosk        TEXT NOT NULL,
        ticket       INTEGER NOT NULL REFERENCES tickets(id),
        requested_by TEXT NOT NULL,
        requested_at INTEGER NOT NULL,
        done_at      INTEGER,
        printed      INTEGER,
        problem      TEXT
    );
    CREATE INDEX print_jobs_pending ON print_jobs(kiosk, id) WHERE done_at IS NULL;
    "#,
    // 13: closures the manager sets (停电, 停业): the hall, or some of its
    // services (`services`: ",id,id," or NULL for all), from..until, with
    // the reason customers are shown. Lifted ones are kept, with when.
    r#"
    CREATE TABLE closures (
        id          INTEGER PRIMARY KEY,
        from_at     INTEGER NOT NULL,
        until_at    INTEGER NOT NULL,
        reason_zh   TEXT NOT NULL,
        reason_en   TEXT NOT NULL,
        services    TEXT,
        created_by  TEXT NOT NULL,
        created_at  INTEGER NOT NULL,
        lifted_at   INTEGER,
        CHECK (from_at < until_at)
    );
    CREATE INDEX closures_until ON closures(until_at) WHERE lifted_at IS NULL;
    "#,
    // 14: appointments (预约). A booking holds a place in a service's slot
    // until it is cancelled, checked in (it then has its ticket) or missed
    // (no_show); `code` is what the kiosk's keypad takes, unique in the
    // slot's day; `tracking_code` is the key of the booking's own page.
    r#"
    CREATE TABLE bookings (
        id              INTEGER PRIMARY KEY,
        service         TEXT NOT NULL,
        slot_start      INTEGER NOT NULL,
        slot_day        TEXT NOT NULL,
        code            TEXT NOT NULL,
        tracking_code   TEXT NOT NULL UNIQUE,
        channel         TEXT NOT NULL,
        idempotency_key TEXT,
        client          TEXT,
        lang            TEXT,
        status          TEXT NOT NULL,
        created_at      INTEGER NOT NULL,
        checked_in_at   INTEGER,
        late            INTEGER NOT NULL DEFAULT 0,
        ticket          INTEGER REFERENCES tickets(id),
        ended_at        INTEGER
    );
    CREATE UNIQUE INDEX bookings_code ON bookings(slot_day, code);
    CREATE UNIQUE INDEX bookings_idempotency ON bookings(channel, idempotency_key)
        WHERE idempotency_key IS NOT NULL;
    CREATE INDEX bookings_slot ON bookings(service, slot_start) WHERE status = 'booked';
    CREATE INDEX bookings_client ON bookings(slot_day, client) WHERE client IS NOT NULL;
    "#,
    // 15: shipping to head office: the newest event its JetStream
    // acknowledged. Shipping goes on from here after a crash or a cut.
    r#"
    CREATE TABLE head_office_shipped (
        id          INTEGER PRIMARY KEY CHECK (id = 1),
        through     INTEGER NOT NULL,
        at          INTEGER NOT NULL
    );
    "#,
    // 16: changes head office pushed and the hall applied, by head
    // office's id: a push sent again (its answer lost) is answered, not
    // applied twice.
    r#"
    CREATE TABLE head_office_pushes (
        id          INTEGER PRIMARY KEY,
        by          TEXT NOT NULL,
        answer      TEXT NOT NULL,
        at          INTEGER NOT NULL
    );
    "#,
    // 17: the calendar as head office sent it: a year's holiday schedule
    // in place of that year in the hall's own files (the file as sent, and
    // its days), and a service's hours in place of its configuration's.
    r#"
    CREATE TABLE holiday_years (
        year        INTEGER PRIMARY KEY,
        file        TEXT NOT NULL,
        set_by      TEXT NOT NULL,
        set_at      INTEGER NOT NULL
    );
    CREATE TABLE holiday_days (
        day         TEXT PRIMARY KEY,
        year        INTEGER NOT NULL REFERENCES holiday_years(year) ON DELETE CASCADE,
        kind        TEXT NOT NULL CHECK (kind IN ('holiday', 'workday')),
        name_zh     TEXT NOT NULL,
        name_en     TEXT NOT NULL
    );
    CREATE TABLE service_hours (
        service     TEXT PRIMARY KEY,
        hours       TEXT NOT NULL,
        set_by      TEXT NOT NULL,
        set_at      INTEGER NOT NULL
    );
    "#,
    // 18: a service's name, target wait and papers as head office set
    // them (`hall_api::head_office::ServiceSettings` as sent), over the
    // configuration's.
    r#"
    CREATE TABLE service_settings (
        service     TEXT PRIMARY KEY,
        settings    TEXT NOT NULL,
        set_by      TEXT NOT NULL,
        set_at      INTEGER NOT NULL
    );
    "#,
];

/// The schema version this server migrates databases to.
pub fn current_version() -> usize {
    MIGRATIONS.len()
}

fn set_pragmas(conn: &Connection) -> rusqlite::Result<()> {
    conn.busy_timeout(std::time::Duration::from_secs(5))?;
    // More distinct statements than rusqlite's default 16 run on each
    // connection; re-preparing them would cost more than running them.
    conn.set_prepared_statement_cache_capacity(64);
    conn.pragma_update(None, "foreign_keys", "ON")?;
    Ok(())
}

/// Opens the database for writing, creating it if needed, checks it, and
/// migrates it. Every failure says which file and what to do about it.
pub fn open_writer(path: &Path) -> anyhow::Result<Connection> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| {
            anyhow::anyhow!(
                "cannot create the data directory {}: {e}; create it and let the service user write there",
                dir.display()
            )
        })?;
    }
    let explain = |e: rusqlite::Error| explain(path, &e);
    let conn = Connection::open(path).map_err(explain)?;
    // A damaged file is refused before anything is served from it: the
    // hall would otherwise read fine and fail at its first ticket.
    let verdict: String = conn
        .query_row("PRAGMA quick_check(1)", [], |r| r.get(0))
        .map_err(explain)?;
    if verdict != "ok" {
        return Err(damaged(path, &verdict));
    }
    // WAL lets readers run beside the writer; FULL makes every commit
    // durable before the client hears of it.
    let mode: String = conn
        .pragma_update_and_check(None, "journal_mode", "WAL", |r| r.get(0))
        .map_err(explain)?;
    if !mode.eq_ignore_ascii_case("wal") {
        anyhow::bail!(
            "the database {} cannot use WAL mode (got {mode}); put it on a local disk",
            path.display()
        );
    }
    conn.pragma_update(None, "synchronous", "FULL")
        .map_err(explain)?;
    // Deleted and overwritten content is zeroed, not left in free space:
    // personal data removed after the retention period is gone from the file.
    conn.pragma_update(None, "secure_delete", "ON")
        .map_err(explain)?;
    set_pragmas(&conn).map_err(explain)?;
    migrate(&conn).map_err(|e| match e.downcast::<rusqlite::Error>() {
        Ok(e) => explain(e),
        Err(e) => e,
    })?;
    Ok(conn)
}

/// What a failure to open the database means for the person at the
/// terminal, and what they can do.
pub fn explain(path: &Path, e: &rusqlite::Error) -> anyhow::Error {
    use rusqlite::ErrorCode as C;
    let file = path.display();
    match e.sqlite_error_code() {
        Some(C::DatabaseCorrupt | C::NotADatabase) => damaged(path, &e.to_string()),
        Some(C::ReadOnly) => anyhow::anyhow!(
            "the hall database {file} cannot be written ({e}): give the service user write access \
             to it and its folder (chown hall-queue: {file}*), or check that the disk is not mounted read-only"
        ),
        Some(C::CannotOpen | C::PermissionDenied) => anyhow::anyhow!(
            "cannot open or create the hall database {file} ({e}): check that its folder exists and \
             that the service user may read and write there"
        ),
        Some(C::DiskFull) => anyhow::anyhow!(
            "the disk holding the hall database {file} is full ({e}): free some space, then start again"
        ),
        _ => anyhow::anyhow!("the hall database {file} failed: {e}"),
    }
}

fn damaged(path: &Path, detail: &str) -> anyhow::Error {
    let file = path.display();
    let backups = path.with_file_name("backups");
    anyhow::anyhow!(
        "the hall database {file} is damaged ({detail}); the server will not run on it. \
         Move it aside (mv {file} {file}.damaged), then copy the newest backup in its place \
         (ls -t {}/ shows them, newest first: cp {}/<newest>.db {file}) and start again",
        backups.display(),
        backups.display()
    )
}

/// Copies the WAL into the database and truncates it, so that page
/// versions written before (personal data just removed, say) are not kept
/// in the WAL file.
pub fn checkpoint(path: &Path) -> anyhow::Result<()> {
    let conn = Connection::open(path)?;
    set_pragmas(&conn)?;
    let (busy, _, _): (i64, i64, i64) =
        conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })?;
    if busy != 0 {
        anyhow::bail!("readers kept the checkpoint from completing");
    }
    Ok(())
}

/// A read-only connection for queries beside the writer.
pub fn open_reader(path: &Path) -> rusqlite::Result<Connection> {
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY
            | OpenFlags::SQLITE_OPEN_NO_MUTEX
            | OpenFlags::SQLITE_OPEN_URI,
    )?;
    set_pragmas(&conn)?;
    // Readers touch recent events and small tables; a small cache each
    // keeps the appliance's memory flat (SQLite's default is 2 MiB).
    conn.pragma_update(None, "cache_size", -512)?;
    Ok(conn)
}

pub fn migrate(conn: &Connection) -> anyhow::Result<()> {
    let version: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
    let version = usize::try_from(version).unwrap_or(usize::MAX);
    if version > MIGRATIONS.len() {
        anyhow::bail!(
            "the database is at schema version {version}, newer than this queue-server knows ({}); run the newer version or restore a backup",
            MIGRATIONS.len()
        );
    }
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(version) {
        let tx = conn.unchecked_transaction()?;
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", (i + 1) as i64)?;
        tx.commit()?;
        tracing::info!(version = i + 1, "database migrated");
    }
    Ok(())
}

/// An online, consistent copy of the database into `target`, safe while the
/// server runs.
pub fn backup(db: &Path, target: &Path) -> anyhow::Result<()> {
    if target.exists() {
        anyhow::bail!(
            "{} already exists; choose a new file name for the backup",
            target.display()
        );
    }
    if !db.exists() {
        anyhow::bail!(
            "no hall database at {}; pass the server's --db",
            db.display()
        );
    }
    let conn = open_reader(db)?;
    let target = target
        .to_str()
        .ok_or_else(|| anyhow::anyhow!("the backup path must be valid UTF-8"))?;
    conn.execute("VACUUM INTO ?1", [target])?;
    Ok(())
}
