//! How every program of the hall reports a mistake in its configuration
//! file: `FILE:LINE: what is wrong`, then a `fix:` line a person can act on.

/// `span` is the byte range the parser blamed, if any.
pub fn located(
    file: &str,
    text: &str,
    span: Option<std::ops::Range<usize>>,
    problem: &str,
    fix: &str,
) -> String {
    let line = span.map(|s| {
        text.as_bytes()[..s.start.min(text.len())]
            .iter()
            .filter(|&&b| b == b'\n')
            .count()
            + 1
    });
    format!(
        "{file}:{}: {}\n  fix: {fix}",
        line.map_or_else(String::new, |l| l.to_string()),
        problem.trim()
    )
}
