//! Reports over any period for the manager console, their exports (CSV,
//! workbook), the days' reports kept at their end, and the printable page.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{Html, IntoResponse, Response};
use hall_api::{ErrorBody, KeptReport, Report};
use jiff::civil::Date;
use serde::Deserialize;

use crate::api::auth::Caller;
use crate::api::hall::day_or_today;
use crate::api::manager::PeriodQuery;
use crate::api::{ApiQuery, AppState};
use crate::config::Role;
use crate::error::{Error, Result};
use crate::exports::{Labels, TABLE_IDS, csv, tables, workbook};
use crate::rules::report::days_in;
use crate::store::{managers, reader};

/// The longest period one report covers (a year and a month).
const MAX_DAYS: u32 = 400;

const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

/// The period a query names: `from` (default today) to `to` (default `from`).
pub fn period(st: &AppState, q: &PeriodQuery) -> Result<(Date, Date)> {
    let first = day_or_today(st, q.from.as_deref())?;
    let last = match q.to.as_deref() {
        Some(raw) => day_or_today(st, Some(raw))?,
        None => first,
    };
    if last < first {
        return Err(Error::BadRequest(format!(
            "the period ends ({last}) before it starts ({first}); swap from and to"
        )));
    }
    if days_in(first, last) > MAX_DAYS {
        return Err(Error::BadRequest(format!(
            "a report covers at most {MAX_DAYS} days; ask for a shorter period"
        )));
    }
    Ok((first, last))
}

async fn compute(st: &AppState, days: (Date, Date)) -> Result<Report> {
    let hall = st.hall.now();
    let now = st.clock.read().at;
    st.reads
        .run(move |conn| {
            // One read transaction: the period and the one before agree.
            let tx = conn.unchecked_transaction()?;
            reader::report(&tx, &hall, days, now)
        })
        .await
}

/// A period's figures, with the period of the same length before it.
#[utoipa::path(get, path = "/api/v1/reports", params(PeriodQuery),
    responses((status = 200, body = Report), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)),
    security(("bearer" = [])), tag = "stats")]
pub async fn period_report(
    State(st): State<AppState>,
    caller: Caller,
    ApiQuery(q): ApiQuery<PeriodQuery>,
) -> Result<Json<Report>> {
    caller.require(&[Role::Manager], "read reports")?;
    let days = period(&st, &q)?;
    Ok(Json(compute(&st, days).await?))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct ExportQuery {
    #[param(pattern = "^[0-9]{4}-[0-9]{2}-[0-9]{2}$")]
    pub from: Option<String>,
    #[param(pattern = "^[0-9]{4}-[0-9]{2}-[0-9]{2}$")]
    pub to: Option<String>,
    /// `csv` (one table), `xlsx` (every table, one sheet each) or `json`
    /// (the report and its tables, as the console shows them).
    pub format: String,
    /// For CSV: services, counters, staff, hours, weekdays, days, arrivals or waits.
    pub table: Option<String>,
    /// Headers in `zh`, `en` or `both` (default).
    pub lang: Option<String>,
}

/// A report as a file: CSV for one table, or the workbook.
#[utoipa::path(get, path = "/api/v1/reports/export", params(ExportQuery),
    responses((status = 200, description = "text/csv or an .xlsx workbook"), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)),
    security(("bearer" = [])), tag = "stats")]
pub async fn export_report(
    State(st): State<AppState>,
    caller: Caller,
    ApiQuery(q): ApiQuery<ExportQuery>,
) -> Result<Response> {
    caller.require(&[Role::Manager], "export reports")?;
    let labels = Labels::parse(q.lang.as_deref())?;
    let days = period(
        &st,
        &PeriodQuery {
            from: q.from.clone(),
            to: q.to.clone(),
        },
    )?;
    let name = if days.0 == days.1 {
        format!("report-{}", days.0)
    } else {
        format!("report-{}-to-{}", days.0, days.1)
    };
    match q.format.as_str() {
        "csv" => {
            let id = q.table.as_deref().ok_or_else(|| {
                Error::BadRequest(format!(
                    "a CSV holds one table: add table=, one of {}",
                    TABLE_IDS.join(", ")
                ))
            })?;
            if !TABLE_IDS.contains(&id) {
                return Err(Error::BadRequest(format!(
                    "no table \"{id}\"; the tables are {}",
                    TABLE_IDS.join(", ")
                )));
            }
            let report = compute(&st, days).await?;
            let all = tables(&report, &st.hall.now(), labels);
            let table = all
                .iter()
                .find(|t| t.id == id)
                .ok_or_else(|| Error::Internal(format!("table {id} was not made")))?;
            Ok(file(
                csv(table)?,
                "text/csv; charset=utf-8",
                &format!("{name}-{id}.csv"),
            ))
        }
        "xlsx" => {
            let report = compute(&st, days).await?;
            let book = workbook(&tables(&report, &st.hall.now(), labels))?;
            Ok(file(book, XLSX, &format!("{name}.xlsx")))
        }
        "json" => {
            let report = compute(&st, days).await?;
            let tables = tables(&report, &st.hall.now(), labels);
            Ok(Json(serde_json::json!({ "report": report, "tables": tables })).into_response())
        }
        other => Err(Error::BadRequest(format!(
            "format \"{other}\" is not csv, xlsx or json"
        ))),
    }
}

fn file(body: Vec<u8>, content_type: &'static str, name: &str) -> Response {
    (
        [
            (header::CONTENT_TYPE, content_type.to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}\""),
            ),
        ],
        body,
    )
        .into_response()
}

/// The days whose report was made and kept at their end, newest first.
#[utoipa::path(get, path = "/api/v1/reports/kept",
    responses((status = 200, body = Vec<KeptReport>), (status = 403, body = ErrorBody)),
    security(("bearer" = [])), tag = "stats")]
pub async fn kept_reports(
    State(st): State<AppState>,
    caller: Caller,
) -> Result<Json<Vec<KeptReport>>> {
    caller.require(&[Role::Manager], "read kept reports")?;
    Ok(Json(
        st.reads
            .run(|conn| managers::kept_reports(conn, 62))
            .await?,
    ))
}

async fn kept(st: &AppState, date: Date) -> Result<Option<(Report, Vec<u8>, jiff::Timestamp)>> {
    let day = date.to_string();
    let Some((json, book, made)) = st
        .reads
        .run(move |conn| managers::kept_report(conn, &day))
        .await?
    else {
        return Ok(None);
    };
    let report: Report = serde_json::from_str(&json)
        .map_err(|e| Error::Internal(format!("the kept report of {date} cannot be read: {e}")))?;
    Ok(Some((report, book, crate::store::queries::ts(made))))
}

fn parse_date(raw: &str) -> Result<Date> {
    raw.parse()
        .map_err(|_| Error::BadRequest(format!("\"{raw}\" is not a date; write YYYY-MM-DD")))
}

/// The workbook kept at the end of a day.
#[utoipa::path(get, path = "/api/v1/reports/kept/{date}/workbook", params(("date" = String, Path)),
    responses((status = 200, description = "the .xlsx workbook"), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = [])), tag = "stats")]
pub async fn kept_workbook(
    State(st): State<AppState>,
    caller: Caller,
    Path(date): Path<String>,
) -> Result<Response> {
    caller.require(&[Role::Manager], "read kept reports")?;
    let date = parse_date(&date)?;
    let (_, book, _) = kept(&st, date).await?.ok_or_else(|| {
        Error::NotFound(format!(
            "no report was kept for {date}: a day's report is made at its closing time"
        ))
    })?;
    Ok(file(book, XLSX, &format!("daily-report-{date}.xlsx")))
}

/// The printable daily report (日报): the kept one once the day has
/// ended, else the day so far.
pub async fn daily_page(
    State(st): State<AppState>,
    caller: Caller,
    Path(date): Path<String>,
) -> Result<Response> {
    caller.require(&[Role::Manager], "read the daily report")?;
    let date = parse_date(&date)?;
    let (report, made) = match kept(&st, date).await? {
        Some((report, _, made)) => (report, made),
        None => (compute(&st, (date, date)).await?, st.clock.read().at),
    };
    Ok(printable(crate::report_page::page(
        &report,
        &st.hall.now(),
        made,
    )))
}

/// Any period's report as a printable page.
pub async fn print_page(
    State(st): State<AppState>,
    caller: Caller,
    ApiQuery(q): ApiQuery<PeriodQuery>,
) -> Result<Response> {
    caller.require(&[Role::Manager], "read reports")?;
    let days = period(&st, &q)?;
    let report = compute(&st, days).await?;
    Ok(printable(crate::report_page::page(
        &report,
        &st.hall.now(),
        st.clock.read().at,
    )))
}

/// Runs after every report route: a year's report reads half a million
/// tickets and builds tables and workbooks, megabytes that are free once
/// the answer is made; they are given back to the system, so the
/// appliance's memory at rest stays where it was.
pub async fn give_memory_back(
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let response = next.run(req).await;
    tokio::task::spawn_blocking(crate::release_freed_memory);
    response
}

fn printable(html: String) -> Response {
    (crate::api::public::PAGE_POLICY, Html(html)).into_response()
}
