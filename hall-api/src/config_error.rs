//! How every program of the hall reports a mistake in its configuration
//! file: `FILE:LINE: what is wrong`, then a `fix:` line a person can act
//! on, because the person reading it is an installer at a terminal.

use std::fmt;
use std::ops::Range;

/// A configuration problem, pointing at the file and, where known, the line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    pub file: String,
    pub line: Option<usize>,
    pub problem: String,
    pub fix: String,
}

impl ConfigError {
    /// A problem at the byte range `span` of `text` (the parser's or a
    /// checker's); no span, or the empty span at 0 that a default value
    /// carries, names no line.
    pub fn at(
        file: &str,
        text: &str,
        span: Option<Range<usize>>,
        problem: impl Into<String>,
        fix: impl Into<String>,
    ) -> ConfigError {
        ConfigError {
            file: file.to_string(),
            line: span
                .filter(|s| *s != (0..0))
                .map(|s| line_of(text, s.start)),
            problem: problem.into().trim().to_string(),
            fix: fix.into(),
        }
    }

    /// A problem with the value of `key` (the last part of a dotted name is
    /// looked for), at the first line that sets it; for checks made after
    /// parsing, when the parser's spans are gone.
    pub fn at_key(
        file: &str,
        text: &str,
        key: &str,
        problem: impl Into<String>,
        fix: impl Into<String>,
    ) -> ConfigError {
        let name = key.rsplit('.').next().unwrap_or(key);
        let mut offset = 0;
        let mut found = None;
        for line in text.split_inclusive('\n') {
            let rest = line.trim_start().strip_prefix(name);
            if rest.is_some_and(|r| r.trim_start().starts_with('=')) {
                found = Some(offset..offset + line.len());
                break;
            }
            offset += line.len();
        }
        ConfigError::at(file, text, found, problem, fix)
    }

    /// A problem of the file as a whole (cannot be read, a value missing).
    pub fn in_file(file: &str, problem: impl Into<String>, fix: impl Into<String>) -> ConfigError {
        ConfigError {
            file: file.to_string(),
            line: None,
            problem: problem.into(),
            fix: fix.into(),
        }
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(line) => write!(f, "{}:{}: {}", self.file, line, self.problem)?,
            None => write!(f, "{}: {}", self.file, self.problem)?,
        }
        write!(f, "\n  fix: {}", self.fix)
    }
}

impl std::error::Error for ConfigError {}

/// The 1-based line of a byte offset (counting bytes, so an offset inside
/// a multi-byte character cannot panic).
pub fn line_of(text: &str, offset: usize) -> usize {
    text.as_bytes()[..offset.min(text.len())]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        + 1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_numbers_count_bytes_safely() {
        assert_eq!(line_of("a\n厅\nb", 6), 3, "b starts at byte 6");
        assert_eq!(line_of("a\n厅\nb", 2), 2, "厅 starts at byte 2");
        assert_eq!(line_of("厅", 1), 1, "inside a character: no panic");
        assert_eq!(line_of("x", 99), 1);
    }

    #[test]
    fn names_file_line_and_fix() {
        let e = ConfigError::at(
            "k.toml",
            "a = 1\nb = x\n",
            Some(10..11),
            " bad b ",
            "write b = 2",
        );
        assert_eq!(e.to_string(), "k.toml:2: bad b\n  fix: write b = 2");
        let e = ConfigError::at("k.toml", "a", Some(0..0), "missing", "add it");
        assert_eq!(e.to_string(), "k.toml: missing\n  fix: add it");
        let text = "[screen]\nidle_s = 0\n  volume= 5\n";
        let e = ConfigError::at_key("k.toml", text, "screen.idle_s", "zero", "give 1");
        assert_eq!(e.line, Some(2));
        assert_eq!(
            ConfigError::at_key("k", text, "voice.volume", "x", "y").line,
            Some(3)
        );
        assert_eq!(
            ConfigError::at_key("k", text, "nothing", "x", "y").line,
            None
        );
    }
}
