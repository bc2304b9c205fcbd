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

/// What `drm_root` shows.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Connectors {
    /// The connected outputs, by connector name (`card0-HDMI-A-1` is `HDMI-A-1`), in the order
    /// of their directories.
    pub connected: Vec<String>,
    /// Connectors whose status cannot be read, with why: they count as not connected.
    pub unreadable: Vec<String>,
}

/// Reads the connectors under `root`. Fails only when `root` itself cannot be listed.
pub fn read_connectors(root: &Path) -> io::Result<Connectors> {
    let mut connected = Vec::new();
    let mut unreadable = Vec::new();
    for entry in std::fs::read_dir(root)? {
        let entry = entry?;
        let dir_name = entry.file_name();
        let Some(name) = dir_name.to_str().and_then(connector_name) else {
            continue;
        };
        let status = entry.path().join("status");
        match std::fs::read_to_string(&status) {
            Ok(text) => {
                if text.trim() == "connected" {
                    connected.push((dir_name.clone(), name.to_owned()));
                }
            }
            // A connector going away as we read.
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => unreadable.push(format!("{}: {e}", status.display())),
        }
    }
    connected.sort();
    Ok(Connectors {
        connected: connected.into_iter().map(|(_, name)| name).collect(),
        unreadable,
    })
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
    /// The unreadable connectors last warned about.
    unreadable: Vec<String>,
    failing: bool,
}

impl Watcher {
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self {
            root: root.into(),
            last: None,
            unreadable: Vec::new(),
            failing: false,
        }
    }

    /// The connected outputs, if they changed since the last read. While `drm_root` cannot be
    /// read the room keeps what it had (its configured screens at first).
    pub fn poll(&mut self) -> Option<Vec<String>> {
        match read_connectors(&self.root) {
            Ok(connectors) => {
                if self.failing {
                    self.failing = false;
                    tracing::info!(drm_root = %self.root.display(), "display connectors readable again");
                }
                if connectors.unreadable != self.unreadable {
                    for problem in &connectors.unreadable {
                        tracing::warn!(%problem, "cannot read a display connector: it counts as disconnected");
                    }
                    self.unreadable = connectors.unreadable;
                }
                if self.last.as_ref() == Some(&connectors.connected) {
                    return None;
                }
                tracing::info!(outputs = ?connectors.connected, "connected displays");
                self.last = Some(connectors.connected.clone());
                Some(connectors.connected)
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
                        // Reading sysfs does not block for long, but it is file I/O all the same,
                        // and a drm_root on a hung file system must not hold up the runtime.
                        let poll = tokio::task::spawn_blocking(move || {
                            let change = self.poll();
                            (self, change)
                        });
                        let (watcher, change) = tokio::select! {
                            () = shutdown.cancelled() => break,
                            polled = poll => match polled {
                                Ok(polled) => polled,
                                Err(error) => {
                                    tracing::error!(%error, "display hot-plug stopped");
                                    break;
                                }
                            },
                        };
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
            read_connectors(root.path()).unwrap().connected,
            ["HDMI-A-1", "HDMI-A-2"]
        );
    }

    #[test]
    fn an_unreadable_connector_counts_as_disconnected() {
        let root = drm(&[("card0-HDMI-A-1", "connected")]);
        // A plain file where a connector directory should be: its status cannot be read.
        std::fs::write(root.path().join("card0-DP-1"), "").unwrap();
        let connectors = read_connectors(root.path()).unwrap();
        assert_eq!(connectors.connected, ["HDMI-A-1"]);
        assert_eq!(connectors.unreadable.len(), 1);
        assert!(connectors.unreadable[0].contains("card0-DP-1"));
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
