//! What the measuring tools (`load`, `fleet_bench`) share: finding the roomsd binary, keeping
//! its processes from outliving the tool, and reading a process's CPU time and RSS.

use std::path::PathBuf;
use std::process::Child;

/// The roomsd binary built beside the tool (`target/<profile>/roomsd`).
pub fn roomsd_path() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let path = exe.parent().unwrap().parent().unwrap().join("roomsd");
    assert!(
        path.exists(),
        "build roomsd first: cargo build --release ({path:?})"
    );
    path
}

/// Kills the process it holds when dropped, even when the tool panics.
pub struct KillOnDrop(pub Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        self.0.kill().ok();
        self.0.wait().ok();
    }
}

/// A process's CPU time so far (user and system), in seconds, from /proc.
#[allow(dead_code)] // `fleet_bench` measures memory only.
pub fn cpu_secs(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map_or("", |(_, rest)| rest)
        .split_whitespace()
        .collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|t| t.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    (ticks(11) + ticks(12)) / 100.0
}

/// A process's resident memory in KiB, from /proc.
pub fn rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches(" kB").trim().parse().ok())
        .unwrap_or(0)
}
