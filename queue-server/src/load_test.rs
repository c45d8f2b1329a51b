//! The hall the bench and the load tests use (not a configuration a real
//! hall would have: one service and many identical counters).

/// Tokens of [`load_test_hall`]'s devices.
pub const LOAD_TEST_KIOSK: &str = "load-kiosk";
pub const LOAD_TEST_DISPLAY: &str = "load-display";
pub const LOAD_TEST_BILLING: &str = "load-billing";

/// The hall the bench and the load tests use: one service, "pay" (prefix A),
/// `counters` open counters all serving it, and a kiosk, a display and a
/// billing device with the `LOAD_TEST_*` tokens.
pub fn load_test_hall(counters: u32) -> String {
    let mut toml = format!(
        "[hall]\nname = {{ zh = \"压测厅\", en = \"Load Test Hall\" }}\ntimezone = \"Asia/Shanghai\"\n\n\
         [[service]]\nid = \"pay\"\nprefix = \"A\"\nname = {{ zh = \"缴费\", en = \"Payment\" }}\n\n\
         [[device]]\nname = \"kiosk\"\nrole = \"kiosk\"\ntoken = \"{LOAD_TEST_KIOSK}\"\n\n\
         [[device]]\nname = \"board\"\nrole = \"display\"\ntoken = \"{LOAD_TEST_DISPLAY}\"\n\n\
         [[device]]\nname = \"billing\"\nrole = \"billing\"\ntoken = \"{LOAD_TEST_BILLING}\"\n"
    );
    for n in 1..=counters {
        toml.push_str(&format!(
            "\n[[counter]]\nnumber = {n}\nname = {{ zh = \"{n}号窗口\", en = \"Counter {n}\" }}\nservices = [\"pay\"]\ninitial_state = \"open\"\n"
        ));
    }
    toml
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{Config, Role};
    use hall_api::CounterState;

    #[test]
    fn load_test_hall_is_valid() {
        let c = Config::parse("load", &load_test_hall(64)).unwrap();
        assert_eq!((c.services.len(), c.counters.len()), (1, 64));
        assert!(
            c.counters
                .iter()
                .all(|k| k.initial_state == CounterState::Open)
        );
        assert_eq!(
            c.device_by_token(LOAD_TEST_BILLING).unwrap().role,
            Role::Billing
        );
    }
}
