//! Display hot-plug: follows the connectors under `[screens] drm_root` (normally
//! `/sys/class/drm`) and tells the room which outputs are connected.
//!
//! Why polling: sysfs attributes such as `card0-HDMI-A-1/status` raise no inotify events. The
//! kernel announces hot-plug as uevents on a netlink socket, which a test cannot fake with a
//! directory. Reading a few tiny files every quarter second costs nothing and notices a change
//! well within the second PROTOCOL.md §4.1 allows.

use std::io;
use std::path::{Path, PathBuf};
use std::time::Duration;

use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

pub const POLL_INTERVAL: Duration = Duration::from_millis(250);

/// The outputs connected under `root`, by connector name (`card0-HDMI-A-1` is `HDMI-A-1`), in
/// the order of their directories.
pub fn connected_outputs(root: &Path) -> io::Result<Vec<String>> {
    let mut connectors = Vec::new();
    for entry in std::fs::read_dir(root)? {
        let entry = entry?;
        let dir_name = entry.file_name();
        let Some(name) = dir_name.to_str().and_then(connector_name) else {
            continue;
        };
        match std::fs::read_to_string(entry.path().join("status")) {
            Ok(status) => {
                if status.trim() == "connected" {
                    connectors.push((dir_name.clone(), name.to_owned()));
                }
            }
            // A card directory without connectors, or one going away as we read.
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => {
                return Err(io::Error::new(
                    e.kind(),
                    format!("{}/status: {e}", entry.path().display()),
                ));
            }
        }
    }
    connectors.sort();
    Ok(connectors.into_iter().map(|(_, name)| name).collect())
}

/// `card<N>-<connector>` names a connector; `card<N>`, `renderD128` and `version` do not.
fn connector_name(dir_name: &str) -> Option<&str> {
    let rest = dir_name.strip_prefix("card")?;
    let (card, connector) = rest.split_once('-')?;
    let is_card = !card.is_empty() && card.bytes().all(|b| b.is_ascii_digit());
    (is_card && !connector.is_empty()).then_some(connector)
}

/// Reads `drm_root` and remembers what it saw, so that only changes are passed on and a
/// failure is warned about once, not four times a second.
#[derive(Debug)]
pub struct Watcher {
    root: PathBuf,
    last: Option<Vec<String>>,
    failing: bool,
}

impl Watcher {
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self {
            root: root.into(),
            last: None,
            failing: false,
        }
    }

    /// The connected outputs, if they changed since the last read. While `drm_root` cannot be
    /// read the room keeps what it had (its configured screens at first).
    pub fn poll(&mut self) -> Option<Vec<String>> {
        match connected_outputs(&self.root) {
            Ok(connected) => {
                if self.failing {
                    self.failing = false;
                    tracing::info!(drm_root = %self.root.display(), "display connectors readable again");
                }
                if self.last.as_ref() == Some(&connected) {
                    return None;
                }
                tracing::info!(outputs = ?connected, "connected displays");
                self.last = Some(connected.clone());
                Some(connected)
            }
            Err(e) => {
                if !self.failing {
                    self.failing = true;
                    tracing::warn!(
                        drm_root = %self.root.display(),
                        error = %e,
                        "cannot read the display connectors: keeping the current screen setup \
                         (check [screens] drm_root)"
                    );
                }
                None
            }
        }
    }

    /// Polls until `shutdown`, sending each change of the connected outputs.
    pub fn spawn(
        mut self,
        connected: watch::Sender<Vec<String>>,
        shutdown: CancellationToken,
    ) -> JoinHandle<()> {
        tokio::spawn(async move {
            let mut ticks = tokio::time::interval(POLL_INTERVAL);
            ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tokio::select! {
                    () = shutdown.cancelled() => break,
                    _ = ticks.tick() => {
                        // Reading sysfs does not block for long, but it is file I/O all the same.
                        let (watcher, change) = tokio::task::spawn_blocking(move || {
                            let change = self.poll();
                            (self, change)
                        })
                        .await
                        .expect("polling the connectors does not panic");
                        self = watcher;
                        if let Some(outputs) = change {
                            // Only the owner listens; gone means the daemon is stopping.
                            if connected.send(outputs).is_err() {
                                break;
                            }
                        }
                    }
                }
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A directory laid out like `/sys/class/drm`.
    fn drm(connectors: &[(&str, &str)]) -> tempfile::TempDir {
        let root = tempfile::tempdir().unwrap();
        std::fs::create_dir(root.path().join("card0")).unwrap();
        std::fs::create_dir(root.path().join("renderD128")).unwrap();
        std::fs::write(root.path().join("version"), "drm 1.1.0\n").unwrap();
        for (dir, status) in connectors {
            set(&root, dir, status);
        }
        root
    }

    fn set(root: &tempfile::TempDir, dir: &str, status: &str) {
        let path = root.path().join(dir);
        std::fs::create_dir_all(&path).unwrap();
        std::fs::write(path.join("status"), format!("{status}\n")).unwrap();
    }

    #[test]
    fn connector_names_come_from_card_directories() {
        assert_eq!(connector_name("card0-HDMI-A-1"), Some("HDMI-A-1"));
        assert_eq!(connector_name("card12-eDP-1"), Some("eDP-1"));
        assert_eq!(connector_name("card0"), None);
        assert_eq!(connector_name("cardX-DP-1"), None);
        assert_eq!(connector_name("card0-"), None);
        assert_eq!(connector_name("renderD128"), None);
    }

    #[test]
    fn only_connected_outputs_count() {
        let root = drm(&[
            ("card0-HDMI-A-2", "connected"),
            ("card0-DP-1", "disconnected"),
            ("card0-HDMI-A-1", "connected"),
            ("card1-Virtual-1", "unknown"),
        ]);
        assert_eq!(
            connected_outputs(root.path()).unwrap(),
            ["HDMI-A-1", "HDMI-A-2"]
        );
    }

    #[test]
    fn the_watcher_passes_on_changes_only() {
        let root = drm(&[
            ("card0-HDMI-A-1", "connected"),
            ("card0-HDMI-A-2", "disconnected"),
        ]);
        let mut w = Watcher::new(root.path());
        assert_eq!(w.poll(), Some(vec!["HDMI-A-1".to_owned()]));
        assert_eq!(w.poll(), None);
        set(&root, "card0-HDMI-A-2", "connected");
        assert_eq!(
            w.poll(),
            Some(vec!["HDMI-A-1".to_owned(), "HDMI-A-2".to_owned()])
        );
    }

    #[test]
    fn a_missing_root_is_no_change_and_recovers() {
        let parent = tempfile::tempdir().unwrap();
        let root = parent.path().join("drm");
        let mut w = Watcher::new(&root);
        assert_eq!(w.poll(), None);
        assert!(w.failing);
        std::fs::create_dir(&root).unwrap();
        assert_eq!(w.poll(), Some(Vec::new()));
        assert!(!w.failing);
    }
}
