//! A service's name, target wait and papers as head office sets them, in
//! place of the configuration's. The writer lays them over the running
//! configuration once the change is committed (`config::LiveConfig`).

use hall_api::EventKind;
use hall_api::head_office::ServiceSettings;

use super::Hall;
use crate::error::{Error, Result};

impl Hall<'_> {
    /// Keeps `settings` for `service` in place of its own; none: its own again.
    pub fn set_service_settings(
        &mut self,
        service: &str,
        settings: Option<&ServiceSettings>,
    ) -> Result<()> {
        self.known_service(service)?;
        match settings {
            None => {
                self.tables.clear_service_settings(service)?;
                self.audit(
                    "service.set",
                    &format!("{service} keeps its own name, target and papers again"),
                )?;
            }
            Some(settings) => {
                crate::config::sent_service_settings(service, settings)
                    .map_err(Error::BadRequest)?;
                let kept =
                    serde_json::to_string(settings).map_err(|e| Error::Internal(e.to_string()))?;
                let (by, at) = (self.actor.name.clone(), self.at_ms());
                self.tables.set_service_settings(service, &kept, &by, at)?;
                self.audit(
                    "service.set",
                    &format!("{service} from head office: {kept}"),
                )?;
            }
        }
        self.config_changed = true;
        self.record_service(EventKind::ServiceChanged, service)?;
        Ok(())
    }
}
