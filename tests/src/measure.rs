//! Small helpers for the bench binaries: latency summaries and memory.

/// Prints `n`, p50, p99 and max of `ms` (milliseconds).
pub fn report_ms(what: &str, mut ms: Vec<f64>) {
    if ms.is_empty() {
        println!("{what}: no samples");
        return;
    }
    ms.sort_by(f64::total_cmp);
    let at = |p: f64| ms[((p / 100.0 * ms.len() as f64).ceil() as usize).clamp(1, ms.len()) - 1];
    println!(
        "{what}: n={} p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
        ms.len(),
        at(50.0),
        at(99.0),
        at(100.0)
    );
}

/// Resident memory of a process (VmRSS), in KiB; 0 when it is gone.
pub fn rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

/// Peak resident memory of a process (VmHWM), in KiB.
pub fn peak_rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}
