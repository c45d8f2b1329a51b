//! The wait estimate shown on the kiosk and printed on the ticket.
//!
//! It uses what the hall is doing now: the people ahead in the service, the
//! counters open for it (each counting for the share of its time this
//! service can expect, given the other queues it serves that have people
//! waiting), whether any of them is free, and the service's recent time per
//! customer blended with the configured expectation while history is thin.

/// An open counter that serves the service being estimated.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct OpenCounter {
    /// Services with people waiting that this counter serves, counting the
    /// estimated service itself: its time is shared among them.
    pub busy_queues: u32,
    /// It is calling or serving someone now.
    pub occupied: bool,
}

/// How many recent customers outweigh the configured expectation.
const PRIOR_WEIGHT: f64 = 3.0;

/// Mean seconds a counter spends per customer of a service: recent history
/// (call to end, so walking up and no-shows count) blended with the expected
/// time, which dominates until a few customers have been served.
pub fn service_seconds(recent: &[f64], expected_s: f64) -> f64 {
    let n = recent.len() as f64;
    (recent.iter().sum::<f64>() + PRIOR_WEIGHT * expected_s) / (n + PRIOR_WEIGHT)
}

/// Estimated seconds until a ticket with `ahead` people before it is called,
/// or `None` when no counter is open for its service.
pub fn wait_seconds(ahead: u32, per_customer_s: f64, counters: &[OpenCounter]) -> Option<u32> {
    if counters.is_empty() {
        return None;
    }
    let capacity: f64 = counters
        .iter()
        .map(|c| 1.0 / f64::from(c.busy_queues.max(1)))
        .sum();
    let free = counters.iter().filter(|c| !c.occupied).count() as u32;
    if ahead < free {
        return Some(0); // a free counter takes this ticket at once
    }
    // Those ahead beyond the free counters are served at the shared rate;
    // before that the soonest busy counter must finish (on average a share
    // of one service time, shorter the more counters are busy).
    let queued = f64::from(ahead - free);
    let busy = (counters.len() as u32 - free).max(1);
    let first_free_s = per_customer_s / f64::from(busy + 1);
    let secs = queued * per_customer_s / capacity + if free == 0 { first_free_s } else { 0.0 };
    Some(secs.round().min(f64::from(u32::MAX)) as u32)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const OWN: OpenCounter = OpenCounter {
        busy_queues: 1,
        occupied: true,
    };

    #[test]
    fn expectation_rules_until_history_builds_up() {
        assert_eq!(service_seconds(&[], 300.0), 300.0);
        // One quick customer barely moves it; many do.
        assert!((service_seconds(&[60.0], 300.0) - 240.0).abs() < 1e-9);
        let many = vec![60.0; 60];
        assert!(service_seconds(&many, 300.0) < 72.0);
    }

    #[test]
    fn no_open_counter_means_no_estimate() {
        assert_eq!(wait_seconds(3, 300.0, &[]), None);
    }

    #[test]
    fn a_free_counter_serves_at_once() {
        let free = OpenCounter {
            busy_queues: 1,
            occupied: false,
        };
        assert_eq!(wait_seconds(0, 300.0, &[free]), Some(0));
        assert_eq!(wait_seconds(1, 300.0, &[free, free]), Some(0));
    }

    #[test]
    fn one_busy_counter_queue_of_four() {
        // Four ahead at 5 minutes each, plus on average half a service for the
        // customer at the counter now.
        assert_eq!(wait_seconds(4, 300.0, &[OWN]), Some(4 * 300 + 150));
    }

    #[test]
    fn more_counters_shorten_the_wait_and_shared_ones_less() {
        let one = wait_seconds(6, 300.0, &[OWN]).unwrap();
        let two = wait_seconds(6, 300.0, &[OWN, OWN]).unwrap();
        let shared = OpenCounter {
            busy_queues: 2,
            occupied: true,
        };
        let two_shared = wait_seconds(6, 300.0, &[OWN, shared]).unwrap();
        assert!(
            two < two_shared && two_shared < one,
            "{two} {two_shared} {one}"
        );
    }

    proptest! {
        #[test]
        fn more_people_ahead_never_shortens_the_wait(
            ahead in 0u32..500,
            per in 30.0f64..1800.0,
            counters in proptest::collection::vec((1u32..5, any::<bool>()), 1..8),
        ) {
            let cs: Vec<_> = counters.into_iter().map(|(q, o)| OpenCounter { busy_queues: q, occupied: o }).collect();
            let a = wait_seconds(ahead, per, &cs).unwrap();
            let b = wait_seconds(ahead + 1, per, &cs).unwrap();
            prop_assert!(b >= a);
        }
    }
}
