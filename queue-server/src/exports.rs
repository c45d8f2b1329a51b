//! A report as tables a person hands on: each table once, then written as
//! CSV (one table per file), as an Excel workbook (one sheet per table,
//! numbers as numbers, dates as dates, shares as percentages) and as the
//! printable daily report's HTML. The figures come from `rules::report`;
//! nothing here computes one, it only converts units (seconds to minutes
//! or hours) for people.

use hall_api::{Distribution, I18nText, Report, TicketGroupStats};
use jiff::civil::Date;

use crate::config::Config;
use crate::error::{Error, Result};

/// Which language the headers are in; `Both` for what is kept and printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Labels {
    Zh,
    En,
    Both,
}

impl Labels {
    pub fn parse(raw: Option<&str>) -> Result<Labels> {
        match raw {
            None | Some("both") => Ok(Labels::Both),
            Some("zh") => Ok(Labels::Zh),
            Some("en") => Ok(Labels::En),
            Some(other) => Err(Error::BadRequest(format!(
                "lang \"{other}\" is not zh, en or both"
            ))),
        }
    }

    /// A configured name (a service's, a counter's) in these labels' language.
    fn name(self, text: &I18nText) -> String {
        self.pick(&text.zh, &text.en)
    }

    fn pick(self, zh: &str, en: &str) -> String {
        match self {
            Labels::Zh => zh.into(),
            Labels::En => en.into(),
            Labels::Both => format!("{zh} {en}"),
        }
    }
}

/// As the console receives it: `{"kind": "share", "value": 0.83}`.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(tag = "kind", content = "value", rename_all = "lowercase")]
pub enum Cell {
    Text(String),
    Int(u64),
    /// A measured number (minutes, hours, per hour); empty when unknown.
    Num(Option<f64>),
    /// A share between 0 and 1; empty when unknown.
    Share(Option<f64>),
    Date(Date),
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct Table {
    /// Short, stable name: the CSV's `table=` and the sheet's name.
    pub id: &'static str,
    pub title: String,
    pub columns: Vec<String>,
    pub rows: Vec<Vec<Cell>>,
}

/// The services table's last columns: the period before, which the printed
/// page shows in its figures instead.
pub const BEFORE_COLUMNS: usize = 3;

pub const TABLE_IDS: [&str; 8] = [
    "services", "counters", "staff", "hours", "weekdays", "days", "arrivals", "waits",
];

// `+ 0.0` turns the -0.0 an empty sum gives into 0.
fn minutes(d: Option<f64>) -> Cell {
    Cell::Num(d.map(|s| (s / 6.0).round() / 10.0 + 0.0))
}

fn hours(s: u64) -> Cell {
    Cell::Num(Some((s as f64 / 36.0).round() / 100.0 + 0.0))
}

fn wait_cells(d: &Distribution) -> [Cell; 3] {
    [minutes(d.mean_s), minutes(d.median_s), minutes(d.p90_s)]
}

fn group_row(name: String, g: &TicketGroupStats, before: Option<&TicketGroupStats>) -> Vec<Cell> {
    let mut row = vec![
        Cell::Text(name),
        Cell::Int(g.issued.into()),
        Cell::Int(g.called.into()),
        Cell::Int(g.done.into()),
        Cell::Int(g.no_show.into()),
        Cell::Int(g.cancelled.into()),
        Cell::Int(g.transferred.into()),
    ];
    row.extend(wait_cells(&g.wait));
    row.push(minutes(g.service_time.mean_s));
    row.push(Cell::Share(g.service_level));
    row.push(Cell::Share(g.no_show_rate));
    row.push(Cell::Share(g.transfer_rate));
    row.push(Cell::Share(g.cancel_rate));
    row.push(before.map_or(Cell::Num(None), |b| Cell::Int(b.issued.into())));
    row.push(minutes(before.and_then(|b| b.wait.mean_s)));
    row.push(Cell::Share(before.and_then(|b| b.service_level)));
    row
}

/// Every table of a report, in the order of [`TABLE_IDS`].
pub fn tables(report: &Report, hall: &Config, l: Labels) -> Vec<Table> {
    let service_name = |id: &str| {
        hall.service(id)
            .map_or_else(|| id.to_string(), |s| l.name(&s.name))
    };
    let s = &report.stats;
    let mut services = vec![group_row(
        l.pick("全厅", "Hall"),
        &report.summary.hall,
        Some(&report.previous.hall),
    )];
    for svc in &report.summary.services {
        let before = report
            .previous
            .services
            .iter()
            .find(|p| p.service == svc.service)
            .map(|p| &p.stats);
        services.push(group_row(service_name(&svc.service), &svc.stats, before));
    }
    let group_columns = vec![
        l.pick("业务", "Service"),
        l.pick("取号", "Issued"),
        l.pick("叫号", "Called"),
        l.pick("办结", "Served"),
        l.pick("过号", "No-shows"),
        l.pick("取消", "Cancelled"),
        l.pick("转办", "Transferred"),
        l.pick("平均等候(分)", "Mean wait (min)"),
        l.pick("等候中位数(分)", "Median wait (min)"),
        l.pick("等候P90(分)", "P90 wait (min)"),
        l.pick("平均办理(分)", "Mean service (min)"),
        l.pick("服务达标率", "Service level"),
        l.pick("过号率", "No-show rate"),
        l.pick("转办率", "Transfer rate"),
        l.pick("取消率", "Cancel rate"),
        l.pick("上期取号", "Issued before"),
        l.pick("上期平均等候(分)", "Mean wait before (min)"),
        l.pick("上期达标率", "Service level before"),
    ];
    let counter_name = |n: u32| {
        hall.counter(n)
            .map_or_else(|| n.to_string(), |c| l.name(&c.name))
    };
    let counters = s
        .counters
        .iter()
        .map(|c| {
            vec![
                Cell::Text(counter_name(c.counter)),
                Cell::Int(c.called.into()),
                Cell::Int(c.done.into()),
                Cell::Int(c.no_show.into()),
                minutes(c.service_time.mean_s),
                hours(c.open_s),
                hours(c.serving_s),
                Cell::Share(c.utilisation),
                Cell::Num(c.throughput_per_hour),
                minutes(Some(c.held_s as f64)),
                minutes(Some(c.paused.iter().map(|p| p.seconds as f64).sum())),
                Cell::Share(c.ratings.satisfaction_rate),
            ]
        })
        .collect();
    let staff = s
        .staff
        .iter()
        .map(|m| {
            vec![
                Cell::Text(m.staff.number.clone()),
                Cell::Text(m.staff.name.clone()),
                Cell::Int(m.called.into()),
                Cell::Int(m.served.into()),
                Cell::Int(m.no_show.into()),
                Cell::Int(m.transferred.into()),
                minutes(m.wait.mean_s),
                minutes(m.service_time.mean_s),
                hours(m.signed_in_s),
                minutes(Some(m.paused.iter().map(|p| p.seconds as f64).sum())),
                Cell::Share(m.utilisation),
                Cell::Share(m.ratings.satisfaction_rate),
            ]
        })
        .collect();
    let hour_rows = s
        .hours
        .iter()
        .map(|h| {
            vec![
                Cell::Text(format!("{:02}:00", h.hour)),
                Cell::Int(h.issued.into()),
                Cell::Int(h.called.into()),
                Cell::Int(h.done.into()),
                minutes(h.wait.mean_s),
            ]
        })
        .collect();
    let weekday_name = |wd: u8| {
        let zh = ["周一", "周二", "周三", "周四", "周五", "周六", "周日"];
        let en = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
        let i = usize::from(wd.clamp(1, 7) - 1);
        l.pick(zh[i], en[i])
    };
    let weekdays = report
        .weekdays
        .iter()
        .map(|w| {
            vec![
                Cell::Text(weekday_name(w.weekday)),
                Cell::Int(w.days.into()),
                Cell::Int(w.stats.issued.into()),
                Cell::Int(w.stats.done.into()),
                minutes(w.stats.wait.mean_s),
                Cell::Share(w.stats.service_level),
            ]
        })
        .collect();
    let mut day_columns = vec![
        l.pick("日期", "Date"),
        l.pick("取号", "Issued"),
        l.pick("办结", "Served"),
        l.pick("平均等候(分)", "Mean wait (min)"),
        l.pick("服务达标率", "Service level"),
    ];
    day_columns.extend(
        hall.services
            .iter()
            .map(|svc| format!("{} ({})", service_name(&svc.id), l.pick("达标率", "level"))),
    );
    let days = report
        .daily
        .iter()
        .map(|d| {
            let mut row = vec![
                Cell::Date(d.date),
                Cell::Int(d.issued.into()),
                Cell::Int(d.done.into()),
                minutes(d.mean_wait_s),
                Cell::Share(d.service_level),
            ];
            row.extend(d.services.iter().map(|s| Cell::Share(s.service_level)));
            row
        })
        .collect();
    let mut arrival_columns = vec![l.pick("星期", "Weekday")];
    arrival_columns.extend((0..24).map(|h| format!("{h:02}")));
    let arrivals = report
        .arrivals
        .iter()
        .enumerate()
        .map(|(i, hours)| {
            let mut row = vec![Cell::Text(weekday_name(i as u8 + 1))];
            row.extend(hours.iter().map(|&n| Cell::Int(n.into())));
            row
        })
        .collect();
    let waits = report
        .wait_histogram
        .iter()
        .map(|b| {
            vec![
                Cell::Text(match b.up_to_min {
                    Some(m) => format!("≤ {m}"),
                    None => "> 90".into(),
                }),
                Cell::Int(b.count.into()),
            ]
        })
        .collect();
    vec![
        Table {
            id: "services",
            title: l.pick("业务", "Services"),
            columns: group_columns,
            rows: services,
        },
        Table {
            id: "counters",
            title: l.pick("窗口", "Counters"),
            columns: vec![
                l.pick("窗口", "Counter"),
                l.pick("叫号", "Called"),
                l.pick("办结", "Served"),
                l.pick("过号", "No-shows"),
                l.pick("平均办理(分)", "Mean service (min)"),
                l.pick("开放(时)", "Open (h)"),
                l.pick("办理(时)", "Serving (h)"),
                l.pick("利用率", "Utilisation"),
                l.pick("每开放小时办结", "Served per open hour"),
                l.pick("挂起(分)", "Held (min)"),
                l.pick("暂停(分)", "Paused (min)"),
                l.pick("满意率", "Satisfaction"),
            ],
            rows: counters,
        },
        Table {
            id: "staff",
            title: l.pick("人员", "Staff"),
            columns: vec![
                l.pick("工号", "Number"),
                l.pick("姓名", "Name"),
                l.pick("叫号", "Called"),
                l.pick("办结", "Served"),
                l.pick("过号", "No-shows"),
                l.pick("转办", "Transfers"),
                l.pick("平均等候(分)", "Mean wait (min)"),
                l.pick("平均办理(分)", "Mean service (min)"),
                l.pick("在岗(时)", "Signed in (h)"),
                l.pick("暂停(分)", "Paused (min)"),
                l.pick("利用率", "Utilisation"),
                l.pick("满意率", "Satisfaction"),
            ],
            rows: staff,
        },
        Table {
            id: "hours",
            title: l.pick("时段", "Hours"),
            columns: vec![
                l.pick("时段", "Hour"),
                l.pick("取号", "Issued"),
                l.pick("叫号", "Called"),
                l.pick("办结", "Served"),
                l.pick("平均等候(分)", "Mean wait (min)"),
            ],
            rows: hour_rows,
        },
        Table {
            id: "weekdays",
            title: l.pick("星期", "Weekdays"),
            columns: vec![
                l.pick("星期", "Weekday"),
                l.pick("天数", "Days"),
                l.pick("取号", "Issued"),
                l.pick("办结", "Served"),
                l.pick("平均等候(分)", "Mean wait (min)"),
                l.pick("服务达标率", "Service level"),
            ],
            rows: weekdays,
        },
        Table {
            id: "days",
            title: l.pick("每日", "Days"),
            columns: day_columns,
            rows: days,
        },
        Table {
            id: "arrivals",
            title: l.pick("到达热力图", "Arrivals"),
            columns: arrival_columns,
            rows: arrivals,
        },
        Table {
            id: "waits",
            title: l.pick("等候分布", "Wait distribution"),
            columns: vec![
                l.pick("等候(分)", "Wait (min)"),
                l.pick("人数", "Customers"),
            ],
            rows: waits,
        },
    ]
}

/// One table as CSV (RFC 4180), shares as fractions, dates as YYYY-MM-DD.
pub fn csv(table: &Table) -> Result<Vec<u8>> {
    let mut w = csv::Writer::from_writer(Vec::new());
    let fail = |e: csv::Error| Error::Internal(format!("writing CSV: {e}"));
    w.write_record(&table.columns).map_err(fail)?;
    for row in &table.rows {
        w.write_record(row.iter().map(|c| match c {
            Cell::Text(t) => t.clone(),
            Cell::Int(n) => n.to_string(),
            Cell::Num(v) | Cell::Share(v) => v.map(|x| x.to_string()).unwrap_or_default(),
            Cell::Date(d) => d.to_string(),
        }))
        .map_err(fail)?;
    }
    w.into_inner()
        .map_err(|e| Error::Internal(format!("writing CSV: {e}")))
}

/// Every table as one sheet of a workbook.
pub fn workbook(tables: &[Table]) -> Result<Vec<u8>> {
    use rust_xlsxwriter::{ExcelDateTime, Format, Workbook};
    let fail =
        |e: rust_xlsxwriter::XlsxError| Error::Internal(format!("writing the workbook: {e}"));
    let mut book = Workbook::new();
    let header = Format::new().set_bold().set_text_wrap();
    let share = Format::new().set_num_format("0.0%");
    let number = Format::new().set_num_format("0.0#");
    let date = Format::new().set_num_format("yyyy-mm-dd");
    for t in tables {
        let sheet = book.add_worksheet();
        sheet.set_name(t.id).map_err(fail)?;
        for (c, name) in t.columns.iter().enumerate() {
            sheet
                .write_string_with_format(0, c as u16, name, &header)
                .map_err(fail)?;
        }
        for (r, row) in t.rows.iter().enumerate() {
            let r = r as u32 + 1;
            for (c, cell) in row.iter().enumerate() {
                let c = c as u16;
                match cell {
                    Cell::Text(s) => sheet.write_string(r, c, s).map(|_| ()),
                    Cell::Int(n) => sheet.write_number(r, c, *n as f64).map(|_| ()),
                    Cell::Num(Some(x)) => sheet
                        .write_number_with_format(r, c, *x, &number)
                        .map(|_| ()),
                    Cell::Share(Some(x)) => {
                        sheet.write_number_with_format(r, c, *x, &share).map(|_| ())
                    }
                    Cell::Num(None) | Cell::Share(None) => Ok(()),
                    Cell::Date(d) => {
                        let when = ExcelDateTime::from_ymd(
                            d.year() as u16,
                            d.month() as u8,
                            d.day() as u8,
                        )
                        .map_err(fail)?;
                        sheet
                            .write_datetime_with_format(r, c, &when, &date)
                            .map(|_| ())
                    }
                }
                .map_err(fail)?;
            }
        }
        sheet.set_freeze_panes(1, 0).map_err(fail)?;
        sheet.set_column_width(0, 16).map_err(fail)?;
    }
    book.save_to_buffer().map_err(fail)
}
