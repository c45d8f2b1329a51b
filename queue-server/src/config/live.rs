//! The configuration the hall runs on: its file's, with what head office
//! set of its services laid over it. Readers take the current one for
//! each request or round; the writer swaps in a new one after committing
//! a change to head office's settings.

use std::sync::{Arc, RwLock};

use hall_api::head_office::ServiceSettings;

use super::Config;

pub struct LiveConfig {
    /// As the file says, for laying the settings over again.
    own: Arc<Config>,
    now: RwLock<Arc<Config>>,
}

impl LiveConfig {
    /// The file's configuration with head office's `held` settings.
    pub fn new(own: Arc<Config>, held: &[(String, ServiceSettings)]) -> LiveConfig {
        let now = RwLock::new(Arc::new(own.with_service_settings(held)));
        LiveConfig { own, now }
    }

    /// The configuration now.
    pub fn now(&self) -> Arc<Config> {
        // A writer never panics while holding the lock; take it either way.
        self.now.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// The file's configuration with `held` over it, not yet in use.
    pub fn with(&self, held: &[(String, ServiceSettings)]) -> Arc<Config> {
        Arc::new(self.own.with_service_settings(held))
    }

    /// Puts `config` in use for every reader from now on.
    pub fn set(&self, config: Arc<Config>) {
        *self.now.write().unwrap_or_else(|e| e.into_inner()) = config;
    }
}
