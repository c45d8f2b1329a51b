//! The company's PostgreSQL: every hall's events, once each, and the
//! rollups the live view and the rankings read.
//!
//! - `events`: one row per (hall, event id), the event as the hall made
//!   it; `arrival` numbers rows as they came, to show each hall's order;
//! - `halls`: each hall's profile, newest event, queues now and newest
//!   status (its devices);
//! - `open_tickets`, `counters`: what is in each hall now;
//! - `hourly`, `daily`: per hall, service and local hour (or day): issued,
//!   called, called within the target, done, and the waits;
//! - `refused`: messages that were not taken, and why;
//! - `pushes`, `push_targets`: changes pushed to halls, and each answer;
//! - `users`, `sessions`, `audit`: who may sign in, who is signed in, and
//!   who changed what.

use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod};

/// Each statement runs once, in order, in one transaction per version.
const MIGRATIONS: &[&str] = &[
    r#"
    CREATE TABLE halls (
        hall_id         text PRIMARY KEY,
        profile         jsonb,
        last_event_id   bigint NOT NULL DEFAULT 0,
        last_event_at   timestamptz,
        received_at     timestamptz,
        waiting         jsonb NOT NULL DEFAULT '{}'::jsonb,
        out_of_order    bigint NOT NULL DEFAULT 0
    );
    CREATE TABLE events (
        hall_id         text NOT NULL,
        event_id        bigint NOT NULL,
        kind            text NOT NULL,
        at              timestamptz NOT NULL,
        business_day    date NOT NULL,
        counter         integer,
        body            jsonb NOT NULL,
        received_at     timestamptz NOT NULL DEFAULT clock_timestamp(),
        arrival         bigserial,
        PRIMARY KEY (hall_id, event_id)
    );
    CREATE INDEX events_day ON events (hall_id, business_day, event_id);
    CREATE INDEX events_counter ON events (hall_id, counter, at) WHERE kind LIKE 'counter.%';
    CREATE TABLE open_tickets (
        hall_id         text NOT NULL,
        ticket_id       bigint NOT NULL,
        service         text NOT NULL,
        status          text NOT NULL,
        continuation    boolean NOT NULL,
        -- when its wait began: issued, or checked in; NULL: not arrived yet
        wait_from       timestamptz,
        PRIMARY KEY (hall_id, ticket_id)
    );
    CREATE INDEX open_tickets_waiting ON open_tickets (hall_id, wait_from) WHERE status = 'waiting';
    CREATE TABLE counters (
        hall_id         text NOT NULL,
        counter         integer NOT NULL,
        state           text NOT NULL,
        since           timestamptz NOT NULL,
        PRIMARY KEY (hall_id, counter)
    );
    CREATE TABLE hourly (
        hall_id         text NOT NULL,
        business_day    date NOT NULL,
        service         text NOT NULL,
        hour            smallint NOT NULL,
        issued          integer NOT NULL DEFAULT 0,
        called          integer NOT NULL DEFAULT 0,
        within_target   integer NOT NULL DEFAULT 0,
        done            integer NOT NULL DEFAULT 0,
        waits           integer NOT NULL DEFAULT 0,
        wait_s          double precision NOT NULL DEFAULT 0,
        PRIMARY KEY (hall_id, business_day, service, hour)
    );
    CREATE TABLE daily (
        hall_id         text NOT NULL,
        business_day    date NOT NULL,
        service         text NOT NULL,
        issued          integer NOT NULL DEFAULT 0,
        called          integer NOT NULL DEFAULT 0,
        within_target   integer NOT NULL DEFAULT 0,
        done            integer NOT NULL DEFAULT 0,
        waits           integer NOT NULL DEFAULT 0,
        wait_s          double precision NOT NULL DEFAULT 0,
        PRIMARY KEY (hall_id, business_day, service)
    );
    CREATE INDEX daily_day ON daily (business_day);
    CREATE TABLE refused (
        id              bigserial PRIMARY KEY,
        subject         text NOT NULL,
        reason          text NOT NULL,
        body            text NOT NULL,
        received_at     timestamptz NOT NULL DEFAULT clock_timestamp()
    );
"#,
    r#"
    -- the hall's newest status (its devices), and when it came
    ALTER TABLE halls ADD COLUMN status jsonb, ADD COLUMN status_at timestamptz;
    CREATE TABLE users (
        name            text PRIMARY KEY,
        password_hash   text NOT NULL,
        disabled        boolean NOT NULL DEFAULT false,
        wrong_in_row    integer NOT NULL DEFAULT 0,
        locked_until    timestamptz,
        created_at      timestamptz NOT NULL DEFAULT now(),
        changed_at      timestamptz NOT NULL DEFAULT now()
    );
    CREATE TABLE sessions (
        -- the cookie's SHA-256: a stolen copy of the table opens nothing
        token_sha256    bytea PRIMARY KEY,
        name            text NOT NULL REFERENCES users (name) ON DELETE CASCADE,
        expires_at      timestamptz NOT NULL
    );
    -- changes pushed to halls, and each hall's answer
    CREATE TABLE pushes (
        id              bigserial PRIMARY KEY,
        by              text NOT NULL,
        at              timestamptz NOT NULL DEFAULT clock_timestamp(),
        changes         jsonb NOT NULL
    );
    CREATE TABLE push_targets (
        push_id         bigint NOT NULL REFERENCES pushes (id),
        hall_id         text NOT NULL,
        state           text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'applied', 'refused')),
        reason          text,
        tries           integer NOT NULL DEFAULT 0,
        answered_at     timestamptz,
        PRIMARY KEY (push_id, hall_id)
    );
    CREATE INDEX push_targets_pending ON push_targets (push_id) WHERE state = 'pending';
    CREATE TABLE audit (
        id              bigserial PRIMARY KEY,
        at              timestamptz NOT NULL DEFAULT clock_timestamp(),
        who             text NOT NULL,
        what            text NOT NULL,
        detail          jsonb NOT NULL
    );
"#,
];

/// Connects the pool and brings the schema up to date.
pub async fn open(url: &str, size: usize) -> anyhow::Result<Pool> {
    let pg: tokio_postgres::Config = url
        .parse()
        .map_err(|e| anyhow::anyhow!("postgres.url \"{url}\" is not a connection string: {e}"))?;
    let manager = Manager::from_config(
        pg,
        tokio_postgres::NoTls,
        ManagerConfig {
            recycling_method: RecyclingMethod::Fast,
        },
    );
    let pool = Pool::builder(manager)
        .max_size(size)
        .build()
        .map_err(|e| anyhow::anyhow!("cannot set up the PostgreSQL pool: {e}"))?;
    migrate(&pool).await?;
    Ok(pool)
}

async fn migrate(pool: &Pool) -> anyhow::Result<()> {
    let mut client = pool.get().await.map_err(|e| {
        anyhow::anyhow!("cannot reach PostgreSQL: {e}; is it running, and does the connection string name the right database and user?")
    })?;
    let tx = client.transaction().await?;
    // One head office migrates at a time.
    tx.batch_execute(
        "SELECT pg_advisory_xact_lock(7305); CREATE TABLE IF NOT EXISTS schema_version (version integer NOT NULL)",
    )
    .await?;
    let version: i32 = tx
        .query_opt("SELECT version FROM schema_version", &[])
        .await?
        .map_or(0, |r| r.get(0));
    let version = usize::try_from(version).unwrap_or(0);
    if version > MIGRATIONS.len() {
        anyhow::bail!(
            "the database is at schema version {version}, newer than this head office ({}); install that version",
            MIGRATIONS.len()
        );
    }
    for sql in &MIGRATIONS[version..] {
        tx.batch_execute(sql).await?;
    }
    tx.execute("DELETE FROM schema_version", &[]).await?;
    tx.execute(
        "INSERT INTO schema_version VALUES ($1)",
        &[&(MIGRATIONS.len() as i32)],
    )
    .await?;
    tx.commit().await?;
    Ok(())
}
