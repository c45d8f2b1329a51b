//! The bookings table: what the appointment commands keep and read.

use rusqlite::{Connection, OptionalExtension, Row, params};

use hall_api::BookingStatus;

use crate::error::{Error, Result};

/// A booking as stored.
#[derive(Debug, Clone)]
pub struct BookingRow {
    pub id: i64,
    pub service: String,
    pub slot_start: i64,
    pub slot_day: String,
    pub code: String,
    pub tracking_code: String,
    pub status: BookingStatus,
    pub created_at: i64,
    pub checked_in_at: Option<i64>,
    pub late: bool,
    pub ticket: Option<i64>,
    pub lang: Option<String>,
}

const COLUMNS: &str = "id, service, slot_start, slot_day, code, tracking_code, status, created_at, \
     checked_in_at, late, ticket, lang";

fn row(r: &Row<'_>) -> rusqlite::Result<BookingRow> {
    let status: String = r.get(6)?;
    Ok(BookingRow {
        id: r.get(0)?,
        service: r.get(1)?,
        slot_start: r.get(2)?,
        slot_day: r.get(3)?,
        code: r.get(4)?,
        tracking_code: r.get(5)?,
        status: BookingStatus::parse(&status).ok_or_else(|| {
            rusqlite::Error::FromSqlConversionFailure(
                6,
                rusqlite::types::Type::Text,
                format!("unknown booking status {status}").into(),
            )
        })?,
        created_at: r.get(7)?,
        checked_in_at: r.get(8)?,
        late: r.get(9)?,
        ticket: r.get(10)?,
        lang: r.get(11)?,
    })
}

/// What a new booking stores.
pub struct NewBooking<'a> {
    pub service: &'a str,
    pub slot_start: i64,
    pub slot_day: &'a str,
    pub code: &'a str,
    pub tracking_code: &'a str,
    pub channel: &'a str,
    pub idempotency_key: &'a str,
    pub client: &'a str,
    pub lang: Option<&'a str>,
    pub created_at: i64,
}

pub fn insert(conn: &Connection, b: &NewBooking<'_>) -> Result<i64> {
    Ok(conn
        .prepare_cached(
            "INSERT INTO bookings (service, slot_start, slot_day, code, tracking_code, channel, \
             idempotency_key, client, lang, status, created_at) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, 'booked', ?10) RETURNING id",
        )?
        .query_row(
            params![
                b.service,
                b.slot_start,
                b.slot_day,
                b.code,
                b.tracking_code,
                b.channel,
                b.idempotency_key,
                b.client,
                b.lang,
                b.created_at
            ],
            |r| r.get(0),
        )?)
}

pub fn by_id(conn: &Connection, id: i64) -> Result<BookingRow> {
    conn.prepare_cached(&format!("SELECT {COLUMNS} FROM bookings WHERE id = ?1"))?
        .query_row([id], row)
        .optional()?
        .ok_or_else(|| Error::NotFound(format!("no booking {id}")))
}

pub fn by_idempotency(conn: &Connection, channel: &str, key: &str) -> Result<Option<BookingRow>> {
    Ok(conn
        .prepare_cached(&format!(
            "SELECT {COLUMNS} FROM bookings WHERE channel = ?1 AND idempotency_key = ?2"
        ))?
        .query_row(params![channel, key], row)
        .optional()?)
}

pub fn by_tracking(conn: &Connection, tracking: &str) -> Result<Option<BookingRow>> {
    Ok(conn
        .prepare_cached(&format!(
            "SELECT {COLUMNS} FROM bookings WHERE tracking_code = ?1"
        ))?
        .query_row([tracking], row)
        .optional()?)
}

pub fn by_code(conn: &Connection, day: &str, code: &str) -> Result<Option<BookingRow>> {
    Ok(conn
        .prepare_cached(&format!(
            "SELECT {COLUMNS} FROM bookings WHERE slot_day = ?1 AND code = ?2"
        ))?
        .query_row(params![day, code], row)
        .optional()?)
}

/// Places taken in a slot: bookings not cancelled (a no-show or a
/// check-in used its place).
pub fn taken(conn: &Connection, service: &str, slot_start: i64) -> Result<u32> {
    Ok(conn
        .prepare_cached(
            "SELECT COUNT(*) FROM bookings WHERE service = ?1 AND slot_start = ?2 \
             AND status <> 'cancelled'",
        )?
        .query_row(params![service, slot_start], |r| r.get(0))?)
}

/// Bookings `client` holds for business day `day`, not cancelled.
pub fn held_by(conn: &Connection, day: &str, client: &str) -> Result<u32> {
    Ok(conn
        .prepare_cached(
            "SELECT COUNT(*) FROM bookings WHERE slot_day = ?1 AND client = ?2 AND status <> 'cancelled'",
        )?
        .query_row(params![day, client], |r| r.get(0))?)
}

/// Whether a booking of day `day` already has this code.
pub fn code_taken(conn: &Connection, day: &str, code: &str) -> Result<bool> {
    Ok(conn
        .prepare_cached("SELECT EXISTS (SELECT 1 FROM bookings WHERE slot_day = ?1 AND code = ?2)")?
        .query_row(params![day, code], |r| r.get(0))?)
}

pub fn set_status(conn: &Connection, id: i64, status: BookingStatus, at: i64) -> Result<()> {
    conn.prepare_cached("UPDATE bookings SET status = ?2, ended_at = ?3 WHERE id = ?1")?
        .execute(params![id, status.as_str(), at])?;
    Ok(())
}

pub fn checked_in(conn: &Connection, id: i64, at: i64, late: bool, ticket: i64) -> Result<()> {
    conn.prepare_cached(
        "UPDATE bookings SET status = 'checked_in', checked_in_at = ?2, late = ?3, ticket = ?4 WHERE id = ?1",
    )?
    .execute(params![id, at, late, ticket])?;
    Ok(())
}

pub fn move_to(conn: &Connection, id: i64, slot_start: i64, slot_day: &str) -> Result<()> {
    conn.prepare_cached("UPDATE bookings SET slot_start = ?2, slot_day = ?3 WHERE id = ?1")?
        .execute(params![id, slot_start, slot_day])?;
    Ok(())
}

/// Whether any booking is still booked whose slot started before `before` (ms).
pub fn any_booked_before(conn: &Connection, before: i64) -> Result<bool> {
    Ok(conn
        .prepare_cached(
            "SELECT EXISTS (SELECT 1 FROM bookings WHERE status = 'booked' AND slot_start < ?1)",
        )?
        .query_row([before], |r| r.get(0))?)
}

/// Bookings still booked whose slot started before `before` (ms).
pub fn booked_before(conn: &Connection, before: i64) -> Result<Vec<BookingRow>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM bookings WHERE status = 'booked' AND slot_start < ?1 ORDER BY id"
    ))?;
    let rows = stmt.query_map([before], row)?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// Places taken per slot of `service` between two instants (ms).
pub fn taken_between(
    conn: &Connection,
    service: &str,
    from: i64,
    until: i64,
) -> Result<std::collections::HashMap<i64, u32>> {
    let mut stmt = conn.prepare_cached(
        "SELECT slot_start, COUNT(*) FROM bookings WHERE service = ?1 AND slot_start >= ?2 \
         AND slot_start < ?3 AND status <> 'cancelled' GROUP BY slot_start",
    )?;
    let rows = stmt.query_map(params![service, from, until], |r| {
        Ok((r.get(0)?, r.get(1)?))
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// Bookings of `service` not checked in yet whose slots start between two
/// instants (ms): the appointments a new walk-in will wait behind.
pub fn due_between(conn: &Connection, service: &str, from: i64, until: i64) -> Result<u32> {
    Ok(conn
        .prepare_cached(
            "SELECT COUNT(*) FROM bookings WHERE service = ?1 AND status = 'booked' \
             AND slot_start >= ?2 AND slot_start < ?3",
        )?
        .query_row(params![service, from, until], |r| r.get(0))?)
}
