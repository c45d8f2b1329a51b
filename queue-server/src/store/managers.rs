//! What the manager console keeps, as stored: manager accounts, their
//! sessions, the audit log, the kept day reports, the services closed for
//! a day and the boards' notice.

use hall_api::{AuditEntry, KeptReport, ManagerAccount};
use rusqlite::{Connection, OptionalExtension, Row, params};

use crate::error::Result;
use crate::store::queries::ts;
use crate::store::tables::Tables;

/// A manager account with what sign-in checks.
#[derive(Debug, Clone)]
pub struct ManagerRow {
    pub account: ManagerAccount,
    pub password_hash: String,
    pub failed: u32,
}

const MANAGER_COLUMNS: &str =
    "name, created_at, created_by, disabled_at IS NOT NULL, locked_until, password_hash, failed";

fn manager_from_row(r: &Row<'_>) -> rusqlite::Result<ManagerRow> {
    Ok(ManagerRow {
        account: ManagerAccount {
            name: r.get(0)?,
            created_at: ts(r.get(1)?),
            created_by: r.get(2)?,
            disabled: r.get(3)?,
            locked_until: r.get::<_, Option<i64>>(4)?.map(ts),
        },
        password_hash: r.get(5)?,
        failed: r.get(6)?,
    })
}

pub fn manager(conn: &Connection, name: &str) -> Result<Option<ManagerRow>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {MANAGER_COLUMNS} FROM managers WHERE name = ?1"
    ))?;
    Ok(stmt.query_row([name], manager_from_row).optional()?)
}

pub fn managers(conn: &Connection) -> Result<Vec<ManagerAccount>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {MANAGER_COLUMNS} FROM managers ORDER BY name"
    ))?;
    let rows = stmt.query_map([], manager_from_row)?;
    Ok(rows
        .map(|r| r.map(|m| m.account))
        .collect::<rusqlite::Result<_>>()?)
}

/// The manager whose live console session this token is, and when it ends.
pub fn manager_session(
    conn: &Connection,
    token_sha256: &[u8; 32],
    now: i64,
) -> Result<Option<(String, i64)>> {
    let mut stmt = conn.prepare_cached(
        "SELECT s.manager, s.expires_at FROM manager_sessions s JOIN managers m ON m.name = s.manager \
         WHERE s.token_sha256 = ?1 AND s.expires_at > ?2 AND m.disabled_at IS NULL",
    )?;
    Ok(stmt
        .query_row(params![&token_sha256[..], now], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .optional()?)
}

/// The audit log between two times (ms), newest first.
pub fn audit_between(conn: &Connection, from: i64, to: i64) -> Result<Vec<AuditEntry>> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, at, who, action, detail FROM audit_log WHERE at >= ?1 AND at < ?2 ORDER BY id DESC",
    )?;
    let rows = stmt.query_map(params![from, to], |r| {
        Ok(AuditEntry {
            id: r.get(0)?,
            at: ts(r.get(1)?),
            who: r.get(2)?,
            action: r.get(3)?,
            detail: r.get(4)?,
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// The day's kept report: its JSON, its workbook and when it was made (ms).
pub fn kept_report(conn: &Connection, day: &str) -> Result<Option<(String, Vec<u8>, i64)>> {
    let mut stmt = conn.prepare_cached(
        "SELECT report, workbook, made_at FROM day_reports WHERE business_day = ?1",
    )?;
    Ok(stmt
        .query_row([day], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .optional()?)
}

/// Whether the day's report was kept.
pub fn report_kept(conn: &Connection, day: &str) -> Result<bool> {
    let mut stmt = conn.prepare_cached("SELECT 1 FROM day_reports WHERE business_day = ?1")?;
    Ok(stmt.query_row([day], |_| Ok(())).optional()?.is_some())
}

/// The days whose reports were kept, newest first.
pub fn kept_reports(conn: &Connection, limit: u32) -> Result<Vec<KeptReport>> {
    let mut stmt = conn.prepare_cached(
        "SELECT business_day, made_at FROM day_reports ORDER BY business_day DESC LIMIT ?1",
    )?;
    let rows = stmt.query_map([limit], |r| {
        Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?))
    })?;
    let mut out = Vec::new();
    for row in rows {
        let (day, at) = row?;
        if let Ok(date) = day.parse() {
            out.push(KeptReport {
                date,
                made_at: ts(at),
            });
        }
    }
    Ok(out)
}

impl Tables<'_> {
    pub fn manager(&self, name: &str) -> Result<Option<ManagerRow>> {
        manager(self.conn(), name)
    }

    pub fn insert_manager(&self, name: &str, hash: &str, at: i64, by: &str) -> Result<()> {
        self.conn()
            .prepare_cached(
                "INSERT INTO managers (name, password_hash, created_at, created_by) VALUES (?1, ?2, ?3, ?4)",
            )?
            .execute(params![name, hash, at, by])?;
        Ok(())
    }

    /// A new password, which also lifts a lock.
    pub fn set_manager_password(&self, name: &str, hash: &str) -> Result<()> {
        self.conn()
            .prepare_cached(
                "UPDATE managers SET password_hash = ?2, failed = 0, locked_until = NULL WHERE name = ?1",
            )?
            .execute(params![name, hash])?;
        Ok(())
    }

    pub fn disable_manager(&self, name: &str, at: i64) -> Result<()> {
        self.conn()
            .prepare_cached(
                "UPDATE managers SET disabled_at = ?2 WHERE name = ?1 AND disabled_at IS NULL",
            )?
            .execute(params![name, at])?;
        Ok(())
    }

    /// Keeps the count of wrong passwords and the lock they led to.
    pub fn set_manager_failures(
        &self,
        name: &str,
        failed: u32,
        locked_until: Option<i64>,
    ) -> Result<()> {
        self.conn()
            .prepare_cached("UPDATE managers SET failed = ?2, locked_until = ?3 WHERE name = ?1")?
            .execute(params![name, failed, locked_until])?;
        Ok(())
    }

    pub fn open_manager_session(
        &self,
        token_sha256: &[u8; 32],
        name: &str,
        at: i64,
        expires_at: i64,
    ) -> Result<()> {
        let conn = self.conn();
        conn.prepare_cached("DELETE FROM manager_sessions WHERE expires_at <= ?1")?
            .execute([at])?;
        conn.prepare_cached(
            "INSERT INTO manager_sessions (token_sha256, manager, created_at, expires_at) VALUES (?1, ?2, ?3, ?4)",
        )?
        .execute(params![&token_sha256[..], name, at, expires_at])?;
        Ok(())
    }

    pub fn end_manager_session(&self, token_sha256: &[u8; 32]) -> Result<()> {
        self.conn()
            .prepare_cached("DELETE FROM manager_sessions WHERE token_sha256 = ?1")?
            .execute([&token_sha256[..]])?;
        Ok(())
    }

    pub fn end_manager_sessions_of(&self, name: &str) -> Result<()> {
        self.conn()
            .prepare_cached("DELETE FROM manager_sessions WHERE manager = ?1")?
            .execute([name])?;
        Ok(())
    }

    pub fn append_audit(&self, at: i64, who: &str, action: &str, detail: &str) -> Result<()> {
        self.conn()
            .prepare_cached(
                "INSERT INTO audit_log (at, who, action, detail) VALUES (?1, ?2, ?3, ?4)",
            )?
            .execute(params![at, who, action, detail])?;
        Ok(())
    }

    pub fn keep_report(&self, day: &str, at: i64, report: &str, workbook: &[u8]) -> Result<()> {
        self.conn()
            .prepare_cached(
                "INSERT INTO day_reports (business_day, made_at, report, workbook) VALUES (?1, ?2, ?3, ?4) \
                 ON CONFLICT (business_day) DO UPDATE SET made_at = ?2, report = ?3, workbook = ?4",
            )?
            .execute(params![day, at, report, workbook])?;
        Ok(())
    }
}

/// The services closed for business day `day`.
pub fn services_closed_on(conn: &Connection, day: &str) -> Result<Vec<String>> {
    let mut stmt =
        conn.prepare_cached("SELECT service FROM service_closures WHERE business_day = ?1")?;
    let rows = stmt.query_map([day], |r| r.get(0))?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// The boards' notice, if the manager set one.
pub fn notice(conn: &Connection) -> Result<Option<hall_api::I18nText>> {
    let mut stmt = conn.prepare_cached("SELECT zh, en FROM hall_notice WHERE id = 1")?;
    Ok(stmt
        .query_row([], |r| {
            Ok(hall_api::I18nText {
                zh: r.get(0)?,
                en: r.get(1)?,
            })
        })
        .optional()?)
}

impl Tables<'_> {
    pub fn service_closed_on(&self, service: &str, day: &str) -> Result<bool> {
        let mut stmt = self.conn().prepare_cached(
            "SELECT 1 FROM service_closures WHERE service = ?1 AND business_day = ?2",
        )?;
        Ok(stmt
            .query_row([service, day], |_| Ok(()))
            .optional()?
            .is_some())
    }

    pub fn close_service(&self, service: &str, day: &str, at: i64, by: &str) -> Result<()> {
        self.conn()
            .prepare_cached(
                "INSERT INTO service_closures (service, business_day, closed_at, closed_by) VALUES (?1, ?2, ?3, ?4)",
            )?
            .execute(params![service, day, at, by])?;
        Ok(())
    }

    pub fn reopen_service(&self, service: &str, day: &str) -> Result<()> {
        self.conn()
            .prepare_cached(
                "DELETE FROM service_closures WHERE service = ?1 AND business_day = ?2",
            )?
            .execute([service, day])?;
        Ok(())
    }

    pub fn set_notice(&self, notice: Option<&hall_api::I18nText>, at: i64, by: &str) -> Result<()> {
        let conn = self.conn();
        match notice {
            Some(n) => conn
                .prepare_cached(
                    "INSERT INTO hall_notice (id, zh, en, set_at, set_by) VALUES (1, ?1, ?2, ?3, ?4) \
                     ON CONFLICT (id) DO UPDATE SET zh = ?1, en = ?2, set_at = ?3, set_by = ?4",
                )?
                .execute(params![n.zh, n.en, at, by])?,
            None => conn
                .prepare_cached("DELETE FROM hall_notice")?
                .execute([])?,
        };
        Ok(())
    }
}
