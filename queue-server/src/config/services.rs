//! What may be said of a service's name, promised wait and papers: one
//! set of rules for the hall's file and for head office's settings, and
//! head office's settings laid over the file's services.

use hall_api::I18nText;
use hall_api::head_office::ServiceSettings;

use super::Config;

/// Longest service name, in characters: a kiosk button and a board's line
/// show it whole.
const NAME_MAX: usize = 60;
/// Longest list of papers, in characters: it is printed on the ticket.
const BRING_MAX: usize = 200;

fn bad_text(t: &str, max: usize) -> bool {
    t.trim().is_empty() || t.chars().count() > max || t.chars().any(char::is_control)
}

/// Why `name` cannot name service `id`, if it cannot.
pub(super) fn name_problem(id: &str, name: &I18nText) -> Option<String> {
    (bad_text(&name.zh, NAME_MAX) || bad_text(&name.en, NAME_MAX)).then(|| {
        format!(
            "the name of service \"{id}\" needs a zh and an en text of 1 to {NAME_MAX} characters"
        )
    })
}

/// Why `bring` cannot be service `id`'s papers, if it cannot.
pub(super) fn bring_problem(id: &str, bring: &I18nText) -> Option<String> {
    (bad_text(&bring.zh, BRING_MAX) || bad_text(&bring.en, BRING_MAX)).then(|| {
        format!(
            "bring of service \"{id}\" needs a zh and an en text of 1 to {BRING_MAX} characters"
        )
    })
}

/// Why `minutes` cannot be service `id`'s target wait, if it cannot.
pub(super) fn target_problem(id: &str, minutes: u32) -> Option<String> {
    (!(1..=240).contains(&minutes))
        .then(|| format!("the target wait of service \"{id}\" must be 1 to 240 minutes"))
}

/// Checks settings head office sends for service `id`, as the hall's file
/// is checked.
pub fn sent_service_settings(id: &str, sent: &ServiceSettings) -> Result<(), String> {
    let problem = sent
        .name
        .as_ref()
        .and_then(|n| name_problem(id, n))
        .or_else(|| sent.bring.as_ref().and_then(|b| bring_problem(id, b)))
        .or_else(|| sent.target_wait_min.and_then(|m| target_problem(id, m)));
    match problem {
        Some(p) => Err(p),
        None if *sent == ServiceSettings::default() => Err(format!(
            "the settings of service \"{id}\" say nothing; give a name, target_wait_min or bring, or send none for its own again"
        )),
        None => Ok(()),
    }
}

impl Config {
    /// This configuration with head office's `held` settings over its
    /// services; a service it does not have is left out (and logged).
    pub fn with_service_settings(&self, held: &[(String, ServiceSettings)]) -> Config {
        let mut config = self.clone();
        for (id, sent) in held {
            let Some(s) = config.services.iter_mut().find(|s| s.id == *id) else {
                tracing::warn!(service = %id, "head office's settings name a service this hall does not have; ignored");
                continue;
            };
            if let Some(name) = &sent.name {
                s.name = name.clone();
            }
            if let Some(minutes) = sent.target_wait_min {
                s.target_wait_min = minutes;
            }
            if let Some(bring) = &sent.bring {
                s.bring = Some(bring.clone());
            }
        }
        config
    }
}
