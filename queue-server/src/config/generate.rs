//! A first hall configuration for a new install: the demo hall's shape with
//! fresh secrets, so the appliance starts without anyone editing tokens by
//! hand. The file keeps only each device token's hash; the tokens
//! themselves are handed back once, for the installer to give the devices.

use super::{Config, DEMO_TOML};

/// A generated configuration and the secrets it was made with.
pub struct Generated {
    pub toml: String,
    /// (device name, its token), in the file's order.
    pub tokens: Vec<(String, String)>,
    /// The code in the entrance QR (`/here/<code>`).
    pub place_code: String,
}

/// The demo hall with every `token = "…"` replaced by the hash of a fresh
/// token from `fresh` and a fresh entrance code; checked as the server
/// would before it is handed back.
pub fn from_demo(mut fresh: impl FnMut() -> anyhow::Result<String>) -> anyhow::Result<Generated> {
    let mut toml = String::new();
    let mut tokens = Vec::new();
    let mut device = None::<String>;
    let place_code = fresh()?;
    // The demo's entrance code also appears in its comments.
    let demo_code = Config::demo()
        .remote
        .and_then(|r| r.place_code)
        .ok_or_else(|| anyhow::anyhow!("the demo configuration has no entrance code"))?;
    for line in DEMO_TOML.lines() {
        let line = &line.replace(&demo_code, &place_code);
        let value = |key: &str| {
            line.strip_prefix(key)
                .and_then(|r| r.trim_start().strip_prefix('='))
                .map(|v| v.trim().trim_matches('"').to_string())
        };
        if line.starts_with("[[device]]") {
            device = None;
        }
        if let Some(name) = value("name ") {
            device = Some(name);
        }
        if line.starts_with("# Tokens here are public") {
            toml.push_str(
                "# Made at install (queue-server init-config): each device token is kept\n\
                 # here only as its SHA-256; the tokens went once to the installer's file.\n\
                 # Rename the hall, set its services and counters, then check it with\n\
                 # queue-server --config THIS-FILE check-config.\n",
            );
        } else if line.starts_with("# The demo hall:") {
            toml.push_str("# The hall's configuration.\n");
        } else if value("token ").is_some() {
            let name = device.clone().ok_or_else(|| {
                anyhow::anyhow!("a token outside a [[device]] in the demo configuration")
            })?;
            let token = fresh()?;
            toml.push_str(&format!(
                "token_sha256 = \"{}\"\n",
                crate::tokens::to_hex(&crate::tokens::sha256(&token))
            ));
            tokens.push((name, token));
        } else if value("place_code ").is_some() {
            toml.push_str(&format!("place_code = \"{place_code}\"\n"));
        } else {
            toml.push_str(line);
            toml.push('\n');
        }
    }
    Config::parse("the generated configuration", &toml)
        .map_err(|e| anyhow::anyhow!("the generated configuration does not pass its check: {e}"))?;
    Ok(Generated {
        toml,
        tokens,
        place_code,
    })
}

/// The installer's file: one `name = "token"` line per device.
pub fn tokens_file(g: &Generated) -> String {
    let mut out = String::from(
        "# The device tokens of this hall, in clear: give each device its own\n\
         # (kiosk.toml, board.toml, the counter pages), then delete this file.\n",
    );
    for (name, token) in &g.tokens {
        out.push_str(&format!("{name} = \"{token}\"\n"));
    }
    out.push_str(&format!("# The entrance QR opens /here/{}\n", g.place_code));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_demo_token_is_replaced_by_a_fresh_one_kept_as_its_hash() {
        let mut n = 0;
        let g = from_demo(|| {
            n += 1;
            Ok(format!("fresh-token-{n}"))
        })
        .unwrap();
        assert!(!g.toml.contains("demo-"), "{}", g.toml);
        assert!(!g.toml.contains("token = "), "no token in clear");
        let hall = Config::parse("generated", &g.toml).unwrap();
        let demo = Config::demo();
        assert_eq!(hall.devices.len(), demo.devices.len());
        assert_eq!(g.tokens.len(), demo.devices.len());
        for (name, token) in &g.tokens {
            let device = hall
                .device_by_token(token)
                .expect("the token opens its device");
            assert_eq!(&device.name, name);
        }
        let distinct: std::collections::HashSet<_> = g.tokens.iter().map(|(_, t)| t).collect();
        assert_eq!(distinct.len(), g.tokens.len());
        assert_eq!(
            hall.remote.as_ref().and_then(|r| r.place_code.as_deref()),
            Some(g.place_code.as_str())
        );
        assert!(tokens_file(&g).contains("kiosk-1 = \"fresh-token-2\""));
    }
}
