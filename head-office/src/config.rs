//! Head office's configuration file (TOML): where it listens, its NATS
//! and its PostgreSQL. Each problem is a `FILE:LINE` error with a fix.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use hall_api::config_error::ConfigError;
use serde::Deserialize;
use toml::Spanned;

#[derive(Debug, Clone)]
pub struct Config {
    /// The company's page and API.
    pub listen: SocketAddr,
    pub nats: NatsConfig,
    /// A libpq connection string (`host=/run/postgresql dbname=head_office`).
    pub postgres: String,
    /// The company's reverse proxies in front of head office, whose
    /// `X-Forwarded-For` names the client (`client_addr`).
    pub trusted_proxies: Vec<std::net::IpAddr>,
}

#[derive(Debug, Clone)]
pub struct NatsConfig {
    /// `tls://host:port`.
    pub url: String,
    /// Head office's own nkey seed, in a file only it reads.
    pub nkey_seed_file: PathBuf,
    /// The CA of the NATS server's certificate; the system's roots if absent.
    pub ca: Option<PathBuf>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    listen: Spanned<String>,
    #[serde(default)]
    trusted_proxies: Vec<Spanned<String>>,
    nats: RawNats,
    postgres: RawPostgres,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawNats {
    url: Spanned<String>,
    nkey_seed_file: Spanned<String>,
    ca: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPostgres {
    url: String,
}

impl Config {
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let shown = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|e| {
            ConfigError::in_file(
                &shown,
                format!("cannot read it: {e}"),
                "give the path of head office's configuration file",
            )
        })?;
        Self::parse(&shown, &text)
    }

    pub fn parse(file: &str, text: &str) -> Result<Config, ConfigError> {
        let raw: RawConfig = toml::from_str(text).map_err(|e| {
            ConfigError::at(
                file,
                text,
                e.span(),
                e.message().to_string(),
                "see the configuration in the README's head office section",
            )
        })?;
        let err = |span: std::ops::Range<usize>, problem: String, fix: &str| {
            ConfigError::at(file, text, Some(span), problem, fix)
        };
        let listen = raw.listen.get_ref().parse().map_err(|_| {
            err(
                raw.listen.span(),
                format!(
                    "listen \"{}\" is not an address and port",
                    raw.listen.get_ref()
                ),
                "write it like \"127.0.0.1:8090\"",
            )
        })?;
        let url = raw.nats.url.get_ref();
        if !url.starts_with("tls://") {
            return Err(err(
                raw.nats.url.span(),
                format!("nats.url \"{url}\" is not a tls:// address"),
                "write it like \"tls://nats.example.com:4222\": events cross the company's network only encrypted",
            ));
        }
        let seed_file = raw.nats.nkey_seed_file.get_ref();
        if let Err(problem) = queue_server::head_office::read_seed(Path::new(seed_file)) {
            return Err(err(
                raw.nats.nkey_seed_file.span(),
                format!("nats.nkey_seed_file: {problem}"),
                "give head office's own user seed (SU…), readable by its service user only",
            ));
        }
        let trusted_proxies = raw
            .trusted_proxies
            .iter()
            .map(|p| {
                p.get_ref().parse().map_err(|_| {
                    err(
                        p.span(),
                        format!("trusted_proxies: \"{}\" is not an IP address", p.get_ref()),
                        "list the addresses head office sees its reverse proxies connect from, like \"10.0.0.5\"",
                    )
                })
            })
            .collect::<Result<_, _>>()?;
        Ok(Config {
            listen,
            trusted_proxies,
            nats: NatsConfig {
                url: url.clone(),
                nkey_seed_file: seed_file.into(),
                ca: raw.nats.ca.map(Into::into),
            },
            postgres: raw.postgres.url,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trusted_proxies_are_ip_addresses() {
        let dir = tempfile::tempdir().unwrap();
        let seed = dir.path().join("office.nk");
        crate::keys::office_key(&seed).unwrap();
        let text = |proxies: &str| {
            format!(
                "listen = \"127.0.0.1:8090\"\ntrusted_proxies = {proxies}\n\n[nats]\n\
                 url = \"tls://nats:4222\"\nnkey_seed_file = \"{}\"\n\n[postgres]\nurl = \"host=/run/postgresql\"\n",
                seed.display()
            )
        };
        let c = Config::parse("head-office.toml", &text("[\"10.0.0.5\", \"::1\"]")).unwrap();
        assert_eq!(c.trusted_proxies.len(), 2);
        let e = Config::parse("head-office.toml", &text("[\"nginx\"]"))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("head-office.toml:2:") && e.contains("\"nginx\" is not an IP address"),
            "{e}"
        );
    }
}
