//! Head office's people, kept in PostgreSQL: accounts with a password
//! (argon2, hashed by the hall's own hasher), the sessions a sign-in opens,
//! the lock that wrong passwords lead to, and the audit log of who changed
//! what. The rules (names, password length, five wrong in a row lock the
//! account for 15 minutes) are the manager console's.

use deadpool_postgres::Pool;
use jiff::Timestamp;
pub use queue_server::hall::managers::{LOCK, WRONG_BEFORE_LOCK};

use crate::error::{Error, Result};

/// A user's name and password, checked as the hall checks a manager's.
pub fn valid_account(name: &str, password: &str) -> Result<()> {
    use queue_server::hall::managers::{valid_manager_name, valid_password};
    let plain = |e: queue_server::error::Error| Error::BadRequest(e.to_string());
    valid_manager_name(name).map_err(plain)?;
    valid_password(password).map_err(plain)
}

/// What a sign-in needs to know of an account.
pub struct Account {
    pub password_hash: String,
    pub disabled: bool,
    pub locked_until: Option<Timestamp>,
}

/// Who a session belongs to, until when.
#[derive(Debug, Clone)]
pub struct User {
    pub name: String,
    pub expires_at: Timestamp,
}

/// A new account; refused if the name is taken.
pub async fn add(pool: &Pool, name: &str, password_hash: &str) -> Result<()> {
    let db = pool.get().await?;
    let added = db
        .execute(
            "INSERT INTO users (name, password_hash) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING",
            &[&name, &password_hash],
        )
        .await?;
    if added == 0 {
        return Err(Error::BadRequest(format!(
            "there is already a user {name}; give another name, or set-password to change theirs"
        )));
    }
    audit(
        &db,
        "command line",
        "user.add",
        serde_json::json!({ "name": name }),
    )
    .await
}

/// A new password: the lock lifts, the account is enabled again, and every
/// session it had ends.
pub async fn set_password(pool: &Pool, name: &str, password_hash: &str) -> Result<()> {
    change_account(
        pool,
        name,
        "user.password",
        "UPDATE users SET password_hash = $2, disabled = false, wrong_in_row = 0, locked_until = NULL, changed_at = now() WHERE name = $1",
        &[&name, &password_hash],
    )
    .await
}

/// The account can no longer sign in; its sessions end.
pub async fn disable(pool: &Pool, name: &str) -> Result<()> {
    change_account(
        pool,
        name,
        "user.disable",
        "UPDATE users SET disabled = true, changed_at = now() WHERE name = $1",
        &[&name],
    )
    .await
}

/// One change to `name`'s account (`update`, `$1` the name), its sessions
/// ended and the change audited, in one transaction.
async fn change_account(
    pool: &Pool,
    name: &str,
    what: &str,
    update: &str,
    params: &[&(dyn tokio_postgres::types::ToSql + Sync)],
) -> Result<()> {
    let mut db = pool.get().await?;
    let tx = db.transaction().await?;
    if tx.execute(update, params).await? == 0 {
        return Err(no_such_user(name));
    }
    tx.execute("DELETE FROM sessions WHERE name = $1", &[&name])
        .await?;
    audit(
        &tx,
        "command line",
        what,
        serde_json::json!({ "name": name }),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

fn no_such_user(name: &str) -> Error {
    Error::NotFound(format!("there is no user {name}; add-user makes one"))
}

pub async fn account(pool: &Pool, name: &str) -> Result<Option<Account>> {
    let row = pool
        .get()
        .await?
        .query_opt(
            "SELECT password_hash, disabled, locked_until FROM users WHERE name = $1",
            &[&name],
        )
        .await?;
    Ok(row.map(|r| Account {
        password_hash: r.get(0),
        disabled: r.get(1),
        locked_until: r
            .get::<_, Option<Timestamp>>(2)
            .filter(|until| *until > Timestamp::now()),
    }))
}

/// Counts a wrong password; the one that completes a row of
/// [`WRONG_BEFORE_LOCK`] locks the account and says until when.
pub async fn wrong_password(pool: &Pool, name: &str) -> Result<Option<Timestamp>> {
    let lock_s = LOCK.as_secs_f64();
    let row = pool
        .get()
        .await?
        .query_opt(
            "UPDATE users SET
                 wrong_in_row = CASE WHEN wrong_in_row + 1 >= $2 THEN 0 ELSE wrong_in_row + 1 END,
                 locked_until = CASE WHEN wrong_in_row + 1 >= $2
                                     THEN now() + make_interval(secs => $3) ELSE locked_until END
             WHERE name = $1
             RETURNING locked_until",
            &[&name, &(WRONG_BEFORE_LOCK as i32), &lock_s],
        )
        .await?;
    Ok(row
        .and_then(|r| r.get::<_, Option<Timestamp>>(0))
        .filter(|until| *until > Timestamp::now()))
}

/// Opens a session for `name` (its wrong passwords are forgiven) and says
/// when it ends.
pub async fn open_session(
    pool: &Pool,
    name: &str,
    token_sha256: &[u8],
    lasts: jiff::SignedDuration,
) -> Result<Timestamp> {
    let mut db = pool.get().await?;
    let tx = db.transaction().await?;
    tx.execute(
        "UPDATE users SET wrong_in_row = 0 WHERE name = $1",
        &[&name],
    )
    .await?;
    // Sessions that ended go as new ones open, so the table stays small.
    tx.execute("DELETE FROM sessions WHERE expires_at < now()", &[])
        .await?;
    let row = tx
        .query_one(
            "INSERT INTO sessions (token_sha256, name, expires_at)
             VALUES ($1, $2, now() + make_interval(secs => $3)) RETURNING expires_at",
            &[&token_sha256, &name, &lasts.as_secs_f64()],
        )
        .await?;
    tx.commit().await?;
    Ok(row.get(0))
}

/// Whose session this is, if it is still open and its account enabled.
pub async fn session(pool: &Pool, token_sha256: &[u8]) -> Result<Option<User>> {
    let row = pool
        .get()
        .await?
        .query_opt(
            "SELECT s.name, s.expires_at FROM sessions s JOIN users u USING (name)
             WHERE s.token_sha256 = $1 AND s.expires_at > now() AND NOT u.disabled",
            &[&token_sha256],
        )
        .await?;
    Ok(row.map(|r| User {
        name: r.get(0),
        expires_at: r.get(1),
    }))
}

pub async fn end_session(pool: &Pool, token_sha256: &[u8]) -> Result<()> {
    pool.get()
        .await?
        .execute(
            "DELETE FROM sessions WHERE token_sha256 = $1",
            &[&token_sha256],
        )
        .await?;
    Ok(())
}

/// Keeps a change in the audit log: who, what, the details, and when.
pub async fn audit(
    db: &impl deadpool_postgres::GenericClient,
    who: &str,
    what: &str,
    detail: serde_json::Value,
) -> Result<()> {
    db.execute(
        "INSERT INTO audit (who, what, detail) VALUES ($1, $2, $3)",
        &[&who, &what, &tokio_postgres::types::Json(detail)],
    )
    .await?;
    Ok(())
}
