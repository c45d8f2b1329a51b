//! The end of the hall's day: counters still open are closed (so none
//! counts as open through the night into the next day's figures), and the
//! day's report is made, kept (as JSON for the printable page, and as a
//! workbook) and announced as `day.reported` to the webhooks subscribed.

use hall_api::{CounterState, DayReportSummary, EventKind};
use jiff::civil::Date;

use super::{EventDetail, Hall};
use crate::error::{Error, Result};
use crate::exports::{Labels, tables, workbook};
use crate::rules::lifecycle::CounterStep;

impl Hall<'_> {
    /// Closes every counter that is not closed and has no ticket at it
    /// now; returns the ones it closed and those still serving (to close
    /// when their ticket is finished).
    pub fn close_idle_counters(&mut self, only: Option<&[u32]>) -> Result<(Vec<u32>, Vec<u32>)> {
        let (mut closed, mut serving) = (Vec::new(), Vec::new());
        let numbers: Vec<u32> = self.config.counters.iter().map(|c| c.number).collect();
        for number in numbers {
            if only.is_some_and(|o| !o.contains(&number)) {
                continue;
            }
            let Some(row) = self.tables.counter(number)? else {
                continue;
            };
            if row.state == CounterState::Closed {
                continue;
            }
            if row.current_ticket.is_some() {
                serving.push(number);
                continue;
            }
            self.change_counter(number, CounterStep::Close, None)?;
            closed.push(number);
        }
        Ok((closed, serving))
    }

    /// Ends business day `date`: closes the idle counters, makes and keeps
    /// the day's report, and records `day.reported`. Returns the summary
    /// and the counters still serving.
    pub fn end_day(&mut self, date: Date) -> Result<(DayReportSummary, Vec<u32>)> {
        let (closed, serving) = self.close_idle_counters(None)?;
        let conn = self.tables.conn();
        let report = crate::store::reader::report(conn, self.config, (date, date), self.now.at)?;
        let book = workbook(&tables(&report, self.config, Labels::Both))?;
        let json = serde_json::to_string(&report).map_err(|e| Error::Internal(e.to_string()))?;
        self.tables
            .keep_report(&date.to_string(), self.at_ms(), &json, &book)?;
        let s = &report.summary;
        let summary = DayReportSummary {
            date,
            issued: s.hall.issued,
            done: s.hall.done,
            no_show: s.hall.no_show,
            service_level: s.hall.service_level,
            mean_wait_s: s.hall.wait.mean_s,
            utilisation: s.utilisation,
            counters_closed: closed,
            page: format!("/manager/daily/{date}"),
            workbook: format!("/api/v1/reports/kept/{date}/workbook"),
        };
        let detail = EventDetail {
            report: Some(summary.clone()),
            ..Default::default()
        };
        self.record_full(EventKind::DayReported, None, None, detail)?;
        Ok((summary, serving))
    }
}
