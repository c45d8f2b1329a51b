//! The kiosk's configuration: `kiosk.toml` (built in as the default), with
//! the server, token and printer overridable on the command line.

use std::path::{Path, PathBuf};
use std::time::Duration;

use hall_api::config_error::ConfigError;
use hall_api::{I18nText, Lang};
use serde::Deserialize;

/// The built-in configuration (the README's demo hall).
pub const DEFAULT: &str = include_str!("../kiosk.toml");

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KioskConfig {
    pub server: ServerSection,
    pub printer: PrinterSection,
    pub screen: ScreenSection,
    pub timing: TimingSection,
    pub ticket: Wording,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerSection {
    pub url: String,
    pub token: String,
    /// The hall CA (the server's `ca.crt`), for an `https://` url.
    #[serde(default)]
    pub ca: Option<std::path::PathBuf>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PrinterSection {
    pub device: String,
    pub paper_mm: u32,
    pub chinese: ChineseMode,
    pub raster_font: PathBuf,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ChineseMode {
    Gb18030,
    Raster,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Paper {
    Mm58,
    Mm80,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScreenSection {
    pub language: Lang,
    pub ticket_s: u32,
    pub idle_s: u32,
    pub width: u32,
    pub height: u32,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TimingSection {
    pub refresh_s: u32,
    pub heartbeat_s: u32,
}

/// The words on the printed ticket, in both languages.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Wording {
    pub ahead: I18nText,
    pub next: I18nText,
    pub wait: I18nText,
    /// Instead of `wait` when the estimate is zero.
    pub no_wait: I18nText,
    pub no_estimate: I18nText,
    pub scan: I18nText,
    pub footer: I18nText,
    /// Before the papers a service needs; `{items}` is the service's list.
    #[serde(default = "default_bring")]
    pub bring: I18nText,
}

fn default_bring() -> I18nText {
    I18nText {
        zh: "请携带：{items}".into(),
        en: "Please bring: {items}".into(),
    }
}

impl KioskConfig {
    pub fn default_config() -> KioskConfig {
        Self::parse("built-in kiosk.toml", DEFAULT).expect("the built-in kiosk.toml is valid")
    }

    pub fn load(path: &Path) -> Result<KioskConfig, ConfigError> {
        let name = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|e| {
            ConfigError::in_file(
                &name,
                format!("cannot read the kiosk's configuration: {e}"),
                "give the kiosk's configuration file (see kiosk/kiosk.toml), or none for the demo",
            )
        })?;
        Self::parse(&name, &text)
    }

    pub fn parse(name: &str, text: &str) -> Result<KioskConfig, ConfigError> {
        let config: KioskConfig = toml::from_str(text).map_err(|e| {
            ConfigError::at(
                name,
                text,
                e.span(),
                e.message(),
                "compare it with the kiosk.toml in the kiosk's source (section and field names, quotes)",
            )
        })?;
        hall_api::client::check_device_server(
            name,
            text,
            &config.server.url,
            config.server.ca.as_deref(),
        )?;
        if config.paper().is_none() {
            return Err(ConfigError::at_key(
                name,
                text,
                "printer.paper_mm",
                format!(
                    "printer.paper_mm = {} is not a paper width",
                    config.printer.paper_mm
                ),
                "thermal printers take 58 or 80 mm paper; give one of those",
            ));
        }
        for (what, v) in [
            ("screen.ticket_s", config.screen.ticket_s),
            ("screen.idle_s", config.screen.idle_s),
            ("timing.refresh_s", config.timing.refresh_s),
            ("timing.heartbeat_s", config.timing.heartbeat_s),
        ] {
            if v == 0 {
                return Err(ConfigError::at_key(
                    name,
                    text,
                    what,
                    format!("{what} is 0"),
                    "give a number of seconds, at least 1",
                ));
            }
        }
        Ok(config)
    }

    /// The paper width; `None` for a width no thermal printer takes (the
    /// configuration check refuses those).
    pub fn paper(&self) -> Option<Paper> {
        match self.printer.paper_mm {
            58 => Some(Paper::Mm58),
            80 => Some(Paper::Mm80),
            _ => None,
        }
    }

    pub fn secs(s: u32) -> Duration {
        Duration::from_secs(u64::from(s))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_built_in_configuration_is_valid() {
        let c = KioskConfig::default_config();
        assert_eq!(c.paper(), Some(Paper::Mm80));
        assert_eq!(c.printer.chinese, ChineseMode::Gb18030);
        assert!(c.ticket.ahead.zh.contains("{ahead}"));
    }

    #[test]
    fn mistakes_name_the_line_and_the_fix() {
        let bad = DEFAULT.replace("paper_mm = 80", "paper_mm = 76");
        let e = KioskConfig::parse("k.toml", &bad).unwrap_err().to_string();
        let line = DEFAULT[..DEFAULT.find("paper_mm = 80").unwrap()]
            .lines()
            .count()
            + 1;
        assert!(
            e.starts_with(&format!("k.toml:{line}:")) && e.contains("58 or 80"),
            "{e}"
        );
        let bad = DEFAULT.replace("idle_s = 30", "idle = 30");
        let e = KioskConfig::parse("k.toml", &bad).unwrap_err().to_string();
        let line = DEFAULT[..DEFAULT.find("idle_s = 30").unwrap()]
            .lines()
            .count()
            + 1;
        assert!(
            e.starts_with(&format!("k.toml:{line}:")) && e.contains("fix:"),
            "{e}"
        );
    }
}
