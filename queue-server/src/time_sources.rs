//! The hall's time servers as a chrony sources file. A Pi has no clock of
//! its own before the Pi 5: the box's time comes from NTP, and a hall's
//! network often reaches only the company's servers. chrony (Debian's
//! `/etc/chrony/chrony.conf`) reads every `*.sources` file in
//! `/etc/chrony/sources.d`; the `hall-queue-time` unit writes this one from
//! the hall configuration at boot and after every edit of it.

use std::io::Write;
use std::path::Path;

/// The file's text: one `server` line per configured server, or none (then
/// chrony keeps only the sources of its own configuration).
pub fn chrony_sources(servers: &[String]) -> String {
    let mut text = String::from(
        "# Written by `queue-server time-sources` from [time] servers in the hall\n\
         # configuration (/etc/hall-queue/hall.toml): edit that file, not this one.\n",
    );
    if servers.is_empty() {
        text.push_str("# No [time] servers there: chrony uses its own configuration.\n");
    }
    for s in servers {
        // iburst: four quick requests at start, so a Pi that booted with a
        // stale clock is set within seconds of the network coming up.
        text.push_str(&format!("server {s} iburst\n"));
    }
    text
}

/// Writes `text` to `path` unless it holds it already; returns whether it
/// wrote. The new file is complete before it takes the old one's place, so
/// chrony never reads half a file.
pub fn write_if_changed(path: &Path, text: &str) -> std::io::Result<bool> {
    if std::fs::read_to_string(path).is_ok_and(|old| old == text) {
        return Ok(false);
    }
    let dir = path.parent().unwrap_or(Path::new("."));
    let mut tmp = tempfile::NamedTempFile::new_in(dir)?;
    tmp.write_all(text.as_bytes())?;
    tmp.as_file().sync_all()?;
    use std::os::unix::fs::PermissionsExt;
    tmp.as_file()
        .set_permissions(std::fs::Permissions::from_mode(0o644))?;
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_server_line_each_and_a_note_when_there_are_none() {
        let text = chrony_sources(&["ntp.company.lan".into(), "10.20.0.1".into()]);
        let lines: Vec<_> = text.lines().filter(|l| !l.starts_with('#')).collect();
        assert_eq!(
            lines,
            ["server ntp.company.lan iburst", "server 10.20.0.1 iburst"]
        );
        let none = chrony_sources(&[]);
        assert!(none.lines().all(|l| l.starts_with('#')), "{none}");
    }

    #[test]
    fn writes_only_what_changed() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("hall-queue.sources");
        let text = chrony_sources(&["ntp.company.lan".into()]);
        assert!(write_if_changed(&path, &text).unwrap());
        assert!(!write_if_changed(&path, &text).unwrap());
        assert_eq!(std::fs::read_to_string(&path).unwrap(), text);
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o644);
        let other = chrony_sources(&[]);
        assert!(write_if_changed(&path, &other).unwrap());
        assert_eq!(std::fs::read_to_string(&path).unwrap(), other);
        assert_eq!(
            std::fs::read_dir(dir.path()).unwrap().count(),
            1,
            "no leftovers"
        );
    }
}
