//! The printable daily report (日报): the day's tables from `exports` as
//! one HTML page in both languages, laid out for A4 (its stylesheet is
//! `web/report.css`). Rendered on the server, so a kept report prints the
//! figures it was made with.

use std::fmt::Write;

use hall_api::Report;
use jiff::Timestamp;

use crate::config::Config;
use crate::exports::{Cell, Labels, tables};

fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn cell_text(c: &Cell) -> String {
    match c {
        Cell::Text(t) => escape(t),
        Cell::Int(n) => n.to_string(),
        Cell::Num(Some(x)) => format!("{x}"),
        Cell::Share(Some(x)) => format!("{:.1}%", x * 100.0),
        Cell::Num(None) | Cell::Share(None) => "—".into(),
        Cell::Date(d) => d.to_string(),
    }
}

fn share(x: Option<f64>) -> String {
    cell_text(&Cell::Share(x))
}

fn minutes(s: Option<f64>) -> String {
    s.map_or("—".into(), |s| format!("{:.1}", s / 60.0))
}

/// The page for `report` (a day's, or any period's), made at `made_at`.
pub fn page(report: &Report, hall: &Config, made_at: Timestamp) -> String {
    let s = &report.summary;
    let title = if s.from == s.to {
        format!(
            "{} 日报 · Daily report {}",
            escape(&hall.hall.name.zh),
            s.from
        )
    } else {
        format!(
            "{} 报表 · Report {} – {}",
            escape(&hall.hall.name.zh),
            s.from,
            s.to
        )
    };
    let made = made_at
        .to_zoned(hall.hall.timezone.clone())
        .strftime("%Y-%m-%d %H:%M");
    let mut html = String::new();
    let _ = write!(
        html,
        "<!doctype html><html lang=\"zh-CN\"><head><meta charset=\"utf-8\">\
         <title>{title}</title><link rel=\"stylesheet\" href=\"/assets/report.css\"></head><body>\
         <header><h1>{title}</h1><p class=\"sub\">{} · {} · 生成于 Made {made}</p></header>",
        escape(&hall.hall.name.en),
        escape(&hall.hall.timezone_name),
    );
    let figures = [
        (
            "取号",
            "Issued",
            s.hall.issued.to_string(),
            report.previous.hall.issued.to_string(),
        ),
        (
            "办结",
            "Served",
            s.hall.done.to_string(),
            report.previous.hall.done.to_string(),
        ),
        (
            "平均等候(分)",
            "Mean wait (min)",
            minutes(s.hall.wait.mean_s),
            minutes(report.previous.hall.wait.mean_s),
        ),
        (
            "服务达标率",
            "Service level",
            share(s.hall.service_level),
            share(report.previous.hall.service_level),
        ),
        (
            "利用率",
            "Utilisation",
            share(s.utilisation),
            share(report.previous.utilisation),
        ),
        (
            "过号率",
            "No-show rate",
            share(s.hall.no_show_rate),
            share(report.previous.hall.no_show_rate),
        ),
    ];
    html.push_str("<section class=\"figures\">");
    for (zh, en, now, before) in figures {
        let _ = write!(
            html,
            "<div class=\"figure\"><div class=\"label\">{zh} {en}</div><div class=\"value\" data-figure=\"{en}\">{now}</div>\
             <div class=\"before\">上期 before: {before}</div></div>"
        );
    }
    html.push_str("</section>");
    for mut t in tables(report, hall, Labels::Both) {
        if t.id == "services" {
            // A4 is too narrow for the comparison columns; the figures above compare.
            let keep = t.columns.len() - crate::exports::BEFORE_COLUMNS;
            t.columns.truncate(keep);
            for row in &mut t.rows {
                row.truncate(keep);
            }
        }
        if matches!(t.id, "days" | "weekdays" | "arrivals") && s.from == s.to {
            continue; // one day: these say nothing the others do not
        }
        let _ = write!(
            html,
            "<section class=\"table\" data-table=\"{}\"><h2>{}</h2><table><thead><tr>",
            t.id,
            escape(&t.title)
        );
        for c in &t.columns {
            let _ = write!(html, "<th>{}</th>", escape(c));
        }
        html.push_str("</tr></thead><tbody>");
        if t.rows.is_empty() {
            let _ = write!(
                html,
                "<tr><td colspan=\"{}\" class=\"empty\">无 None</td></tr>",
                t.columns.len()
            );
        }
        for row in &t.rows {
            html.push_str("<tr>");
            for c in row {
                let class = if matches!(c, Cell::Text(_)) {
                    ""
                } else {
                    " class=\"n\""
                };
                let _ = write!(html, "<td{class}>{}</td>", cell_text(c));
            }
            html.push_str("</tr>");
        }
        html.push_str("</tbody></table></section>");
    }
    html.push_str("<footer>服务达标率 = 目标时间内叫号 ÷ (已叫号 + 超时仍在等候) · Service level = called within the target ÷ (called + still waiting past it)</footer></body></html>");
    html
}
