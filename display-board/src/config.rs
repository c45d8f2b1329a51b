//! The board's configuration: `board.toml` (built in as the default).

use std::path::{Path, PathBuf};

use hall_api::Lang;
use hall_api::config_error::ConfigError;
use serde::Deserialize;

pub const DEFAULT: &str = include_str!("../board.toml");

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BoardConfig {
    pub server: Server,
    pub voice: Voice,
    pub screen: Screen,
    #[serde(default)]
    pub led: Vec<LedBus>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Server {
    pub url: String,
    pub token: String,
    /// The hall CA (the server's `ca.crt`), for an `https://` url.
    #[serde(default)]
    pub ca: Option<std::path::PathBuf>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Voice {
    pub languages: Vec<Lang>,
    pub volume: f32,
    pub sounds: PathBuf,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Screen {
    pub notice: String,
    pub width: u32,
    pub height: u32,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LedBus {
    pub port: String,
    pub baud: u32,
    pub counters: Vec<CounterAddress>,
}

#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CounterAddress {
    pub counter: u32,
    pub address: u8,
    /// "ascii" (the default) or "gb2312" for displays that show Chinese.
    #[serde(default)]
    pub charset: crate::led::Charset,
}

impl BoardConfig {
    pub fn default_config() -> BoardConfig {
        Self::parse("built-in board.toml", DEFAULT).expect("the built-in board.toml is valid")
    }

    pub fn load(path: &Path) -> Result<BoardConfig, ConfigError> {
        let name = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|e| {
            ConfigError::in_file(
                &name,
                format!("cannot read the board's configuration: {e}"),
                "give the board's configuration file (see display-board/board.toml)",
            )
        })?;
        Self::parse(&name, &text)
    }

    pub fn parse(name: &str, text: &str) -> Result<BoardConfig, ConfigError> {
        let config: BoardConfig = toml::from_str(text).map_err(|e| {
            ConfigError::at(
                name,
                text,
                e.span(),
                e.message(),
                "compare it with display-board/board.toml (section and field names, quotes)",
            )
        })?;
        hall_api::client::check_device_server(
            name,
            text,
            &config.server.url,
            config.server.ca.as_deref(),
        )?;
        if config.voice.languages.is_empty() && config.voice.volume > 0.0 {
            return Err(ConfigError::at_key(
                name,
                text,
                "voice.languages",
                "voice.languages is empty",
                "give [\"zh\", \"en\"], or volume = 0 for no voice",
            ));
        }
        if !(0.0..=4.0).contains(&config.voice.volume) {
            return Err(ConfigError::at_key(
                name,
                text,
                "voice.volume",
                format!("voice.volume {} is out of range", config.voice.volume),
                "give 0 (silent) to 4 (1 plays the clips as recorded)",
            ));
        }
        for bus in &config.led {
            if let Some(c) = bus.counters.iter().find(|c| c.address > 99) {
                return Err(ConfigError::at_key(
                    name,
                    text,
                    "counters",
                    format!("LED address {} on {} is out of range", c.address, bus.port),
                    "displays on one bus take addresses 0 to 99",
                ));
            }
        }
        Ok(config)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_built_in_configuration_is_valid_and_mistakes_name_the_line() {
        let c = BoardConfig::default_config();
        assert_eq!(c.voice.languages, [Lang::Zh, Lang::En]);
        assert!(c.led.is_empty());
        let bad = DEFAULT.replace("volume = 1.0", "volume = \"loud\"");
        let e = BoardConfig::parse("b.toml", &bad).unwrap_err().to_string();
        let line = DEFAULT[..DEFAULT.find("volume = 1.0").unwrap()]
            .lines()
            .count()
            + 1;
        assert!(
            e.starts_with(&format!("b.toml:{line}:")) && e.contains("fix:"),
            "{e}"
        );
        let leds = format!(
            "{DEFAULT}\n[[led]]\nport = \"/dev/ttyUSB0\"\nbaud = 9600\ncounters = [{{ counter = 1, address = 120 }}]\n"
        );
        let e = BoardConfig::parse("b.toml", &leds).unwrap_err().to_string();
        assert!(e.contains("0 to 99"), "{e}");
    }
}
