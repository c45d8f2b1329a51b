//! What a manager changes for the hall today: a service closed for the rest
//! of the business day (the kiosk greys it out, new tickets are refused,
//! those already waiting are still served), and the notice every board shows.

use hall_api::{EventKind, I18nText};

use super::{EventDetail, Hall, validate_text};
use crate::error::{Error, Result};

impl Hall<'_> {
    fn configured_service(&self, id: &str) -> Result<()> {
        self.config.service(id).map(|_| ()).ok_or_else(|| {
            Error::NotFound(format!(
                "no service \"{id}\"; the services are {}",
                self.config.service_ids()
            ))
        })
    }

    /// Closes `service` for the rest of today.
    pub fn close_service_today(&mut self, service: &str) -> Result<()> {
        self.configured_service(service)?;
        let day = self.business_day();
        if self.tables.service_closed_on(service, &day)? {
            return Err(Error::Conflict(format!(
                "service \"{service}\" is closed for today already"
            )));
        }
        let (at, by) = (self.at_ms(), self.actor.name.clone());
        self.tables.close_service(service, &day, at, &by)?;
        self.record_service(EventKind::ServiceClosed, service)?;
        self.audit(
            "service.closed",
            &format!("closed {service} for {day}; those waiting are still served"),
        )
    }

    /// Opens again a service closed for today.
    pub fn reopen_service_today(&mut self, service: &str) -> Result<()> {
        self.configured_service(service)?;
        let day = self.business_day();
        if !self.tables.service_closed_on(service, &day)? {
            return Err(Error::Conflict(format!(
                "service \"{service}\" is not closed today"
            )));
        }
        self.tables.reopen_service(service, &day)?;
        self.record_service(EventKind::ServiceReopened, service)?;
        self.audit(
            "service.reopened",
            &format!("opened {service} again for {day}"),
        )
    }

    pub(super) fn record_service(&mut self, kind: EventKind, service: &str) -> Result<()> {
        let detail = EventDetail {
            service: Some(service.to_string()),
            ..Default::default()
        };
        self.record_full(kind, None, None, detail)
    }

    /// Sets the boards' notice; `None` gives each board its own back.
    pub fn set_notice(&mut self, notice: Option<I18nText>) -> Result<()> {
        if let Some(n) = &notice {
            validate_text("zh", &n.zh, 120)?;
            validate_text("en", &n.en, 120)?;
        }
        let (at, by) = (self.at_ms(), self.actor.name.clone());
        self.tables.set_notice(notice.as_ref(), at, &by)?;
        let detail = EventDetail {
            notice: notice.clone(),
            ..Default::default()
        };
        self.record_full(EventKind::NoticeChanged, None, None, detail)?;
        match notice {
            Some(n) => self.audit("notice.set", &format!("{} · {}", n.zh, n.en)),
            None => self.audit("notice.cleared", "the boards show their own notice"),
        }
    }

    /// Whether `service` is closed for today (the issue command refuses by it).
    pub(super) fn closed_today(&self, service: &str) -> Result<bool> {
        self.tables.service_closed_on(service, &self.business_day())
    }
}
