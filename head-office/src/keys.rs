//! NATS users as nkey pairs: a hall's, whose seed goes to the hall and
//! whose public key, with what it may do, goes into nats-server's
//! configuration; and head office's own.

use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

use hall_api::head_office::{inbox_prefix, push_subject, relay_subject, valid_hall_id};

/// nats-server's `authorization.users` entry for `hall`: publish only
/// under its own subjects, read only its own inbox (JetStream's acks),
/// head office's pushes to it and the phones' requests it relays there,
/// and answer only the requests it received.
pub fn user_entry(hall: &str, public_key: &str) -> String {
    format!(
        "{{ nkey: {public_key}, permissions: {{ publish: {{ allow: [\"halls.{hall}.>\"] }}, \
         subscribe: {{ allow: [\"{}.>\", \"{}\", \"{}\"] }}, allow_responses: true }} }}",
        inbox_prefix(hall),
        push_subject(hall),
        relay_subject(hall)
    )
}

/// Makes a hall's key: the seed into `seed_out` (created, never
/// overwritten, mode 600), answering the user entry for nats-server.
pub fn hall_key(hall: &str, seed_out: &Path) -> anyhow::Result<String> {
    if !valid_hall_id(hall) {
        anyhow::bail!("\"{hall}\" cannot be a hall id: give 1 to 32 of a-z, 0-9 and -");
    }
    Ok(user_entry(hall, &new_key(seed_out)?))
}

/// Makes head office's own key as [`hall_key`] does a hall's, answering
/// its entry for nats-server: it may do anything (take every hall's
/// events, run JetStream, push and relay to every hall).
pub fn office_key(seed_out: &Path) -> anyhow::Result<String> {
    Ok(format!("{{ nkey: {} }}", new_key(seed_out)?))
}

/// A new user key pair: its seed into `seed_out`, its public key answered.
fn new_key(seed_out: &Path) -> anyhow::Result<String> {
    let pair = nkeys::KeyPair::new_user();
    let seed = pair
        .seed()
        .map_err(|e| anyhow::anyhow!("cannot make a key: {e}"))?;
    let mut f = std::fs::OpenOptions::new()
        .create_new(true)
        .write(true)
        .mode(0o600)
        .open(seed_out)
        .map_err(|e| {
            anyhow::anyhow!(
                "cannot create {}: {e} (an existing seed is never overwritten)",
                seed_out.display()
            )
        })?;
    f.write_all(format!("{seed}\n").as_bytes())?;
    f.sync_all()?;
    Ok(pair.public_key())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hall_key_is_private_parses_and_is_never_overwritten() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("east.nk");
        let entry = hall_key("east-1", &path).unwrap();
        assert!(entry.contains("halls.east-1.>") && entry.contains("_INBOX_east-1.>"));
        let seed = queue_server::head_office::read_seed(&path).unwrap();
        let public = nkeys::KeyPair::from_seed(&seed).unwrap().public_key();
        assert!(entry.starts_with(&format!("{{ nkey: {public},")));
        assert!(
            hall_key("east-1", &path)
                .unwrap_err()
                .to_string()
                .contains("never overwritten")
        );
        assert!(hall_key("East.1", &dir.path().join("x")).is_err());
        let own = dir.path().join("office.nk");
        let entry = office_key(&own).unwrap();
        let seed = queue_server::head_office::read_seed(&own).unwrap();
        let public = nkeys::KeyPair::from_seed(&seed).unwrap().public_key();
        assert_eq!(entry, format!("{{ nkey: {public} }}"));
    }
}
