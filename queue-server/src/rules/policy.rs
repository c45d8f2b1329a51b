//! Which waiting ticket a counter gets next.
//!
//! Order: the service's priority plus the ticket's own (a key account, or
//! a reason the floor guide gave, such as an elderly customer; higher
//! first), then tickets continuing after a transfer, then the counter's own
//! preference among its services, then issue time (a transferred ticket
//! keeps its original issue time), and the ticket id to break exact ties.

use jiff::Timestamp;

/// Where a waiting entry stands among those of its service before issue
/// time is looked at: customers continuing after a transfer go first, so
/// nobody who already waited starts again at the back.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum QueueRank {
    /// The waiting entry a transfer made.
    Continuing,
    /// A ticket as issued.
    Fresh,
}

impl QueueRank {
    /// The `rank_class` column; SQL orders by it in the same direction.
    pub fn stored(self) -> i64 {
        match self {
            QueueRank::Continuing => 0,
            QueueRank::Fresh => 1,
        }
    }

    pub fn from_stored(v: i64) -> QueueRank {
        if v == 0 {
            QueueRank::Continuing
        } else {
            QueueRank::Fresh
        }
    }
}

/// A waiting ticket as the policy sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    pub id: i64,
    pub service: String,
    pub rank: QueueRank,
    pub issued_at: Timestamp,
    /// The ticket's own priority, negated (0 for most; -5 is called as if
    /// its service's priority were 5 higher): stored so, it sorts upwards
    /// like the other columns.
    pub precedence: i32,
    /// A remote ticket whose holder has not checked in: it keeps its place
    /// (and counts as ahead of those behind it) but is not called.
    pub awaiting_check_in: bool,
}

/// The calling order within one service: precedence, rank, then issue
/// time, then id. The store's SQL (`queries::QUEUE_ORDER`) sorts by the
/// same columns; a property test in `crate::hall` holds the two equal.
pub fn queue_key(c: &Candidate) -> (i32, QueueRank, Timestamp, i64) {
    (c.precedence, c.rank, c.issued_at, c.id)
}

/// The precedence of a ticket with its own `priority` (0 for none).
pub fn precedence_of(priority: u32) -> i32 {
    -i32::try_from(priority).unwrap_or(i32::MAX)
}

/// One of the services a counter serves, in the counter's order of preference.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServedService<'a> {
    pub id: &'a str,
    pub priority: i32,
}

/// The key that sorts candidates into calling order; smaller is first.
/// `None` when the counter does not serve the candidate's service.
pub fn rank(
    served: &[ServedService<'_>],
    c: &Candidate,
) -> Option<(i64, QueueRank, usize, Timestamp, i64)> {
    let (pref, s) = served.iter().enumerate().find(|(_, s)| s.id == c.service)?;
    Some((
        -i64::from(s.priority) + i64::from(c.precedence),
        c.rank,
        pref,
        c.issued_at,
        c.id,
    ))
}

/// People of the same service called before `me` (the count a waiting
/// customer is shown as "ahead").
pub fn ahead_in_service<'a>(
    me: &Candidate,
    waiting: impl IntoIterator<Item = &'a Candidate>,
) -> u32 {
    let count = waiting
        .into_iter()
        .filter(|c| c.service == me.service && queue_key(c) < queue_key(me))
        .count();
    u32::try_from(count).unwrap_or(u32::MAX)
}

/// The ticket the counter calls next among `candidates`, skipping remote
/// tickets not checked in.
///
/// Within one service the calling order depends only on [`queue_key`], so
/// the server passes just the head of each service's callable queue.
pub fn pick_next<'c>(
    served: &[ServedService<'_>],
    candidates: &'c [Candidate],
) -> Option<&'c Candidate> {
    candidates
        .iter()
        .filter(|c| !c.awaiting_check_in)
        .filter_map(|c| rank(served, c).map(|k| (k, c)))
        .min_by(|a, b| a.0.cmp(&b.0))
        .map(|(_, c)| c)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn t(secs: i64) -> Timestamp {
        Timestamp::from_second(1_800_000_000 + secs).unwrap()
    }

    fn cand(id: i64, service: &str, transferred: bool, at: i64) -> Candidate {
        Candidate {
            id,
            service: service.into(),
            rank: if transferred {
                QueueRank::Continuing
            } else {
                QueueRank::Fresh
            },
            issued_at: t(at),
            precedence: 0,
            awaiting_check_in: false,
        }
    }

    fn served<'a>(list: &[(&'a str, i32)]) -> Vec<ServedService<'a>> {
        list.iter()
            .map(|&(id, priority)| ServedService { id, priority })
            .collect()
    }

    #[test]
    fn priority_beats_everything_else() {
        let s = served(&[("pay", 0), ("vip", 10)]);
        let c = [cand(1, "pay", true, 0), cand(2, "vip", false, 100)];
        assert_eq!(pick_next(&s, &c).unwrap().id, 2);
    }

    #[test]
    fn a_tickets_own_priority_adds_to_its_services() {
        let s = served(&[("pay", 0), ("vip", 10)]);
        // An elderly customer (priority 5) before ordinary payers, even
        // those who continue after a transfer...
        let mut elderly = cand(3, "pay", false, 90);
        elderly.precedence = precedence_of(5);
        let c = [
            cand(1, "pay", true, 0),
            cand(2, "pay", false, 10),
            elderly.clone(),
        ];
        assert_eq!(pick_next(&s, &c).unwrap().id, 3);
        assert_eq!(ahead_in_service(&c[0], &c), 1);
        // ...but not before the VIP service (priority 10)...
        let with_vip = [elderly.clone(), cand(4, "vip", false, 99)];
        assert_eq!(pick_next(&s, &with_vip).unwrap().id, 4);
        // ...unless their own priority outweighs it.
        let mut key_account = cand(5, "pay", false, 99);
        key_account.precedence = precedence_of(11);
        assert_eq!(
            pick_next(&s, &[cand(4, "vip", false, 0), key_account])
                .unwrap()
                .id,
            5
        );
    }

    #[test]
    fn a_remote_ticket_is_skipped_until_checked_in_and_keeps_its_place() {
        let s = served(&[("pay", 0)]);
        let mut remote = cand(1, "pay", false, 0);
        remote.awaiting_check_in = true;
        let mut c = vec![remote, cand(2, "pay", false, 10), cand(3, "pay", false, 20)];
        // Not here yet: the next walk-in is called, and the remote holder
        // still counts as ahead of those who came after it.
        assert_eq!(pick_next(&s, &c).unwrap().id, 2);
        assert_eq!(ahead_in_service(&c[2], &c), 2);
        // Only remote tickets waiting: nobody is called.
        assert_eq!(pick_next(&s, &c[..1]), None);
        // Checked in: called first, ahead of those who came after it.
        c[0].awaiting_check_in = false;
        assert_eq!(pick_next(&s, &c).unwrap().id, 1);
    }

    #[test]
    fn transferred_first_within_equal_priority() {
        let s = served(&[("pay", 0), ("open", 0)]);
        let c = [cand(1, "pay", false, 0), cand(2, "open", true, 100)];
        assert_eq!(pick_next(&s, &c).unwrap().id, 2);
    }

    #[test]
    fn counter_preference_before_issue_time() {
        let s = served(&[("open", 0), ("pay", 0)]);
        let c = [cand(1, "pay", false, 0), cand(2, "open", false, 100)];
        assert_eq!(pick_next(&s, &c).unwrap().id, 2);
    }

    #[test]
    fn earlier_issue_first_then_lower_id() {
        let s = served(&[("pay", 0)]);
        let c = [
            cand(3, "pay", false, 10),
            cand(2, "pay", false, 5),
            cand(1, "pay", false, 5),
        ];
        assert_eq!(pick_next(&s, &c).unwrap().id, 1);
    }

    #[test]
    fn services_the_counter_does_not_serve_are_never_picked() {
        let s = served(&[("pay", 0)]);
        let c = [cand(1, "vip", false, 0)];
        assert_eq!(pick_next(&s, &c), None);
        assert_eq!(pick_next(&s, &[]), None);
    }

    #[test]
    fn ahead_counts_transferred_and_earlier() {
        let all = [
            cand(1, "pay", false, 0),
            cand(2, "pay", true, 50),
            cand(3, "open", false, 1),
            cand(4, "pay", false, 20),
            cand(5, "pay", false, 30),
        ];
        assert_eq!(ahead_in_service(&all[3], &all), 2); // 1 and the transferred 2
        assert_eq!(ahead_in_service(&all[1], &all), 0);
        assert_eq!(ahead_in_service(&all[4], &all), 3);
    }

    fn arb_candidates() -> impl Strategy<Value = Vec<Candidate>> {
        let services = prop::sample::select(vec!["pay", "vip", "open", "enquiry"]);
        let ticket = (
            services,
            any::<bool>(),
            0i64..50,
            0u32..3,
            prop::bool::weighted(0.2),
        );
        proptest::collection::vec(ticket, 0..40).prop_map(|v| {
            v.into_iter()
                .enumerate()
                .map(|(i, (s, tr, at, own, awaiting))| Candidate {
                    precedence: precedence_of(own * 4),
                    awaiting_check_in: awaiting,
                    ..cand(i as i64 + 1, s, tr, at)
                })
                .collect()
        })
    }

    proptest! {
        /// Picking from the heads of each service's queue gives the same
        /// ticket as sorting every waiting ticket by the full policy order.
        #[test]
        fn heads_suffice(cands in arb_candidates(), prio_vip in 0i32..20) {
            let s = served(&[("open", 0), ("vip", prio_vip), ("pay", 0)]);
            let best_overall = pick_next(&s, &cands).cloned();
            let mut heads = Vec::new();
            for svc in ["pay", "vip", "open", "enquiry"] {
                let head = cands.iter().filter(|c| c.service == svc && !c.awaiting_check_in)
                    .min_by_key(|c| queue_key(c)).cloned();
                heads.extend(head);
            }
            prop_assert_eq!(pick_next(&s, &heads).cloned(), best_overall);
        }

        /// Repeated picking drains exactly the served tickets, each once, and
        /// the ahead count of every ticket equals how many of its own service
        /// were called before it.
        #[test]
        fn draining_calls_each_once_in_order(cands in arb_candidates()) {
            let s = served(&[("pay", 0), ("vip", 0)]);
            let mut left = cands.clone();
            let mut order = Vec::new();
            while let Some(next) = pick_next(&s, &left).cloned() {
                left.retain(|c| c.id != next.id);
                order.push(next);
            }
            let served_count = cands.iter()
                .filter(|c| (c.service == "pay" || c.service == "vip") && !c.awaiting_check_in)
                .count();
            prop_assert_eq!(order.len(), served_count);
            // Nobody not checked in is called; the ahead count of every
            // ticket is those of its service called before it plus the
            // remote holders ahead of it still on their way.
            for (i, c) in order.iter().enumerate() {
                let before_same = order[..i].iter().filter(|o| o.service == c.service).count() as u32;
                let on_the_way = left.iter()
                    .filter(|o| o.service == c.service && queue_key(o) < queue_key(c))
                    .count() as u32;
                prop_assert_eq!(ahead_in_service(c, &cands), before_same + on_the_way);
            }
        }
    }
}
