//! The calling order is defined once, by `rules::policy`; the store sorts
//! in SQL for speed (`queries::QUEUE_ORDER`). On random halls (services of
//! random priorities, counters serving random lists of them, tickets fresh
//! and continuing with clashing issue times) these tests hold the SQL
//! equal to the policy: each queue's head and its first entries, the count
//! of people ahead, and every ticket `call_next` picks until the hall is
//! empty; remote tickets not checked in are among them, never called.

use hall_api::CounterState;
use jiff::Timestamp;
use proptest::prelude::*;
use rusqlite::Connection;

use super::{Actor, Hall};
use crate::config::{Config, Role};
use crate::rules::numbering::Reading;
use crate::rules::policy::{self, Candidate, QueueRank, queue_key};
use crate::store::queries::{self, ms};
use crate::store::schema;
use crate::store::tables::{NewRemote, NewTicket, Tables};

const PREFIXES: [&str; 5] = ["A", "B", "C", "D", "E"];
const START: i64 = 1_800_000_000_000;

#[derive(Debug, Clone)]
struct RandomHall {
    priorities: Vec<i32>,
    /// Each counter's services, as indexes, most preferred first.
    counters: Vec<Vec<usize>>,
    /// (service index, continuing after a transfer, issued this many
    /// seconds after START, the ticket's own priority, how it arrived:
    /// 0 in the hall, 1 remote and not checked in, 2 remote and checked in)
    tickets: Vec<(usize, bool, i64, u32, u8)>,
    /// Which counter presses call-next each turn (modulo the counters).
    presses: Vec<usize>,
}

fn random_hall() -> impl Strategy<Value = RandomHall> {
    (1usize..=5).prop_flat_map(|n| {
        let counter =
            proptest::sample::subsequence((0..n).collect::<Vec<_>>(), 1..=n).prop_shuffle();
        (
            proptest::collection::vec(0i32..3, n),
            proptest::collection::vec(counter, 1..5),
            proptest::collection::vec((0..n, any::<bool>(), 0i64..8, 0u32..3, 0u8..3), 0..40),
            proptest::collection::vec(0usize..5, 60),
        )
            .prop_map(|(priorities, counters, tickets, presses)| RandomHall {
                priorities,
                counters,
                tickets,
                presses,
            })
    })
}

fn config_of(h: &RandomHall) -> Config {
    let mut toml =
        "[hall]\nname = { zh = \"厅\", en = \"Hall\" }\ntimezone = \"Asia/Shanghai\"\n".to_string();
    for (i, p) in h.priorities.iter().enumerate() {
        toml += &format!(
            "\n[[service]]\nid = \"s{i}\"\nprefix = \"{}\"\nname = {{ zh = \"s{i}\", en = \"s{i}\" }}\npriority = {p}\n",
            PREFIXES[i]
        );
    }
    for (k, services) in h.counters.iter().enumerate() {
        let list: Vec<String> = services.iter().map(|i| format!("\"s{i}\"")).collect();
        toml += &format!(
            "\n[[counter]]\nnumber = {}\nname = {{ zh = \"{k}\", en = \"{k}\" }}\nservices = [{}]\ninitial_state = \"open\"\n",
            k + 1,
            list.join(", ")
        );
    }
    Config::parse("random hall", &toml).expect("the random hall is valid")
}

/// Every waiting ticket as the policy sees it (remote ones not checked
/// in too), read back from the table.
fn waiting(conn: &Connection) -> Vec<Candidate> {
    let mut stmt = conn
        .prepare(&format!(
            "SELECT {} FROM tickets WHERE status = 'waiting'",
            queries::TICKET_COLUMNS
        ))
        .unwrap();
    stmt.query_map([], queries::TicketRow::from_row)
        .unwrap()
        .map(|t| t.unwrap().candidate())
        .collect()
}

fn check(h: &RandomHall) -> Result<(), TestCaseError> {
    let config = config_of(h);
    let dir = tempfile::tempdir().unwrap();
    let conn = schema::open_writer(&dir.path().join("hall.db")).unwrap();
    conn.execute_batch("BEGIN").unwrap();
    let tables = Tables::new(&conn);
    for k in &config.counters {
        tables.ensure_counter(k.number, CounterState::Open).unwrap();
    }
    for (n, &(service, continuing, secs, own, arrival)) in h.tickets.iter().enumerate() {
        let service = &config.services[service].id;
        let id = tables
            .insert_ticket(&NewTicket {
                number: &format!("X{n:03}"),
                service,
                business_day: "2027-01-15",
                rank: if continuing {
                    QueueRank::Continuing
                } else {
                    QueueRank::Fresh
                },
                issued_at: START + secs * 1000,
                created_at: START + 10_000,
                channel: "test",
                idempotency_key: None,
                tracking_code: &format!("code{n}"),
                customer_ref: None,
                lang: None,
                transferred_from: None,
                // 0, 2 or 4: below, between and above the services' 0–2.
                precedence: policy::precedence_of(own * 2),
                priority_reason: (own > 0).then_some("elderly"),
                remote: (arrival > 0).then(|| NewRemote {
                    check_in_code: format!("{n:06}"),
                    check_in_by: START + 3_600_000,
                    client: "test".into(),
                }),
            })
            .unwrap();
        if arrival == 2 {
            tables.check_in(id, START + 15_000).unwrap();
        }
    }

    let all = waiting(&conn);
    for s in &config.services {
        let mut own: Vec<&Candidate> = all
            .iter()
            .filter(|c| c.service == s.id && !c.awaiting_check_in)
            .collect();
        own.sort_by_key(|c| queue_key(c));
        let head = queries::queue_head(&conn, &s.id).unwrap().map(|t| t.id);
        prop_assert_eq!(head, own.first().map(|c| c.id), "head of {}", s.id);
        let first3: Vec<i64> = queries::waiting_in(&conn, std::slice::from_ref(&s.id), 3)
            .unwrap()
            .iter()
            .map(|t| t.id)
            .collect();
        let expect: Vec<i64> = own.iter().take(3).map(|c| c.id).collect();
        prop_assert_eq!(first3, expect, "first entries of {}", s.id);
    }
    for c in &all {
        let row = queries::ticket_by_id(&conn, c.id).unwrap().unwrap();
        prop_assert_eq!(
            queries::ahead_of(&conn, &row).unwrap(),
            policy::ahead_in_service(c, &all),
            "ahead of ticket {}",
            c.id
        );
    }

    let actor = Actor::device("test", Role::Manager);
    let mut next_event_id = 1;
    let mut now = START + 20_000;
    for press in &h.presses {
        let counter = &config.counters[press % config.counters.len()];
        let served = config.served_by(counter);
        let left = waiting(&conn);
        let expected = policy::pick_next(&served, &left).map(|c| c.id);
        now += 1000;
        let reading = Reading {
            at: Timestamp::from_millisecond(now).unwrap(),
            trusted: true,
        };
        let mut hall = Hall::new(
            Tables::new(&conn),
            &config,
            reading,
            &actor,
            &mut next_event_id,
        );
        let called = hall.call_next(counter.number).unwrap().map(|t| t.id);
        prop_assert_eq!(
            called,
            expected,
            "counter {} at {}",
            counter.number,
            ms(reading.at)
        );
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn sql_order_equals_the_policy(h in random_hall()) {
        check(&h)?;
    }
}
