//! The nightly backups: a dated copy in a folder, checked after it is
//! written, and copies older than the retention period removed, so
//! personal data does not outlive the period in a backup either.

use std::path::{Path, PathBuf};

use jiff::civil::Date;

use crate::store::schema;

/// What one run did.
pub struct Rotation {
    pub written: PathBuf,
    /// The backups removed, each with why.
    pub removed: Vec<(PathBuf, Removal)>,
}

/// Why an old backup went.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Removal {
    /// Older than the retention period of personal data.
    PastRetention,
    /// Beyond the number kept.
    BeyondCount,
}

const PREFIX: &str = "hall-";

/// Writes `DIR/hall-YYYYMMDD-HHMMSS.db` (UTC) from the database at `db`,
/// checks it opens as a whole database, then removes the backups there
/// dated more than `keep_days` ago and all but the newest `keep_count`.
/// Files not named like a backup are left alone.
pub fn rotate_into(
    db: &Path,
    dir: &Path,
    keep_days: u32,
    keep_count: u32,
) -> anyhow::Result<Rotation> {
    std::fs::create_dir_all(dir).map_err(|e| {
        anyhow::anyhow!(
            "cannot create the backup folder {}: {e}; create it and let the service user write there",
            dir.display()
        )
    })?;
    let now = jiff::Timestamp::now();
    let written = dir.join(format!("{PREFIX}{}.db", now.strftime("%Y%m%d-%H%M%S")));
    schema::backup(db, &written)?;
    check(&written)?;
    let today = now.to_zoned(jiff::tz::TimeZone::UTC).date();
    let oldest_kept = today
        .checked_sub(jiff::Span::new().days(i64::from(keep_days)))
        .unwrap_or(Date::MIN);
    let mut backups = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if let Some(day) = backup_day(&path) {
            backups.push((path, day));
        }
    }
    // The stamp in the name sorts as the time it was taken: newest first.
    backups.sort_by(|a, b| b.0.cmp(&a.0));
    let mut removed = Vec::new();
    for (i, (path, day)) in backups.into_iter().enumerate() {
        let why = if day < oldest_kept {
            Removal::PastRetention
        } else if i >= keep_count.max(1) as usize {
            Removal::BeyondCount
        } else {
            continue;
        };
        // A clock set back leaves backups named later than this one; the
        // one just written stays whatever their names say.
        if path == written {
            continue;
        }
        std::fs::remove_file(&path)
            .map_err(|e| anyhow::anyhow!("cannot remove the old backup {}: {e}", path.display()))?;
        removed.push((path, why));
    }
    removed.sort();
    Ok(Rotation { written, removed })
}

/// The day in a backup's name (`hall-YYYYMMDD-HHMMSS.db`).
fn backup_day(path: &Path) -> Option<Date> {
    let name = path.file_name()?.to_str()?;
    let stamp = name.strip_prefix(PREFIX)?.strip_suffix(".db")?;
    let (day, time) = stamp.split_once('-')?;
    if day.len() != 8 || time.len() != 6 || !time.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    Date::strptime("%Y%m%d", day).ok()
}

/// A backup that does not open and pass SQLite's integrity check is no backup.
fn check(path: &Path) -> anyhow::Result<()> {
    let conn = schema::open_reader(path)?;
    let verdict: String = conn.query_row("PRAGMA integrity_check(1)", [], |r| r.get(0))?;
    if verdict != "ok" {
        anyhow::bail!(
            "the backup just written to {} fails its check ({verdict}); check the disk",
            path.display()
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_backup_names_carry_a_day() {
        assert_eq!(
            backup_day(Path::new("/b/hall-20260105-023000.db")),
            Some(jiff::civil::date(2026, 1, 5))
        );
        for other in [
            "hall.db",
            "hall-2026-01-05.db",
            "notes-20260105-023000.db",
            "hall-20260105-0230.db",
        ] {
            assert_eq!(backup_day(Path::new(other)), None, "{other}");
        }
    }
}
