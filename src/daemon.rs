//! The daemon assembled: configuration in, a listening server, the room's owner task and its
//! backend. The `roomsd` binary and the integration tests start it the same way.

use std::net::SocketAddr;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::backend::{self, HealthTracker};
use crate::config::Config;
use crate::displays;
use crate::room::device::DeviceSettings;
use crate::room::owner::{self, Heartbeat, Inputs, OwnerSettings};
use crate::room::{Given, Room};
use crate::server;
use crate::state_file::StateFile;

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("cannot listen on {addr}: {source}")]
    Listen {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("{0}")]
    Exposed(String),
    /// A meeting service that does not exist, or lacks what it cannot work without (a
    /// configuration made in code; a file's is checked when it is read).
    #[error("{0}")]
    Backend(String),
    /// `[mqtt]` that cannot be used (e.g. TLS files that hold no certificate).
    #[error("{0}")]
    Fleet(String),
}

/// The daemon stopped because a part of it failed, not because it was asked to.
#[derive(Debug, thiserror::Error)]
pub enum Crashed {
    #[error("internal error: the room's owner task panicked")]
    OwnerPanicked,
}

/// How the daemon is hosted. The defaults suit a terminal and the tests; `roomsd` under systemd
/// fills in what the service manager hands it.
#[derive(Default)]
pub struct Hosting {
    /// A socket already listening (systemd socket activation), served instead of binding
    /// `server.listen`.
    pub listener: Option<std::net::TcpListener>,
    /// Called from the room owner's loop, for systemd's watchdog.
    pub heartbeat: Option<Heartbeat>,
}

/// With `[screens] drm_root`, reads the connected displays once, so the first Query already
/// reflects them, and starts following them.
fn follow_displays(
    config: &Config,
    room: &mut Room,
    shutdown: &CancellationToken,
) -> Option<(watch::Receiver<Vec<String>>, JoinHandle<()>)> {
    let root = &config.screens.drm_root;
    if root.is_empty() {
        return None;
    }
    let mut watcher = displays::Watcher::new(root);
    if let Some(connected) = watcher.poll() {
        // Nobody is connected yet to hear the event.
        room.displays_changed(&connected);
    }
    let (connected_tx, connected_rx) = watch::channel(Vec::new());
    let task = watcher.spawn(connected_tx, shutdown.clone());
    Some((connected_rx, task))
}

/// The seed of a cast code that stays the same until the machine reboots: from the kernel's
/// boot id, or random where there is none.
fn boot_cast_seed() -> u64 {
    std::fs::read_to_string("/proc/sys/kernel/random/boot_id")
        .map(|id| {
            // FNV-1a: stable across builds, unlike the standard library's hasher.
            id.trim().bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
                (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
            })
        })
        .unwrap_or_else(|_| rand::random())
}

/// A running daemon.
pub struct Daemon {
    local_addr: SocketAddr,
    shutdown: CancellationToken,
    server: JoinHandle<()>,
    /// The owner task, watched: `false` if it panicked.
    owner: JoinHandle<bool>,
    /// Saves device settings; ends after the owner, having saved the last change.
    settings_writer: Option<JoinHandle<()>>,
    display_watcher: Option<JoinHandle<()>>,
    /// The fleet link (`[mqtt]`); ends after saying `offline`.
    fleet: Option<JoinHandle<()>>,
}

impl Daemon {
    /// Binds `server.listen`, starts the room and the backend, and returns once connections are
    /// accepted.
    pub async fn start(config: Config) -> Result<Self, StartError> {
        Self::start_hosted(config, Hosting::default()).await
    }

    /// [`Daemon::start`], on a socket or with a heartbeat the host provides.
    pub async fn start_hosted(config: Config, hosting: Hosting) -> Result<Self, StartError> {
        let addr = config.server.listen;
        let listener = match hosting.listener {
            Some(listener) => listener
                .set_nonblocking(true)
                .and_then(|()| TcpListener::from_std(listener)),
            None => TcpListener::bind(addr).await,
        }
        .map_err(|source| StartError::Listen { addr, source })?;
        let local_addr = listener
            .local_addr()
            .map_err(|source| StartError::Listen { addr, source })?;
        config
            .server
            .check_exposure(local_addr)
            .map_err(StartError::Exposed)?;
        let shutdown = CancellationToken::new();
        let (reports_tx, reports) = mpsc::channel(256);
        let initial_health = backend::health::initial(&config);
        let (health_tracker, health) = HealthTracker::new(initial_health.clone());
        backend::check(&config).map_err(StartError::Backend)?;
        let backend = backend::build(&config, reports_tx, health_tracker);
        let state_file = StateFile::locate(&config);
        let device_settings = match &state_file {
            Some(file) => file.load(),
            None => {
                tracing::warn!(
                    "no state directory (room.state_dir, or systemd's StateDirectory=): \
                     device settings will not survive a restart"
                );
                DeviceSettings::default()
            }
        };
        let (settings_tx, settings_rx) = watch::channel(device_settings.clone());
        let settings_writer = state_file.map(|file| file.spawn_writer(settings_rx));
        let settings = OwnerSettings {
            backend_timeout: Duration::from_millis(config.backend.timeout_ms.0),
            event_capacity: 1024,
            history: crate::room::history::HistoryLimits::from_config(&config.events),
            device_settings: settings_tx,
            heartbeat: hosting.heartbeat,
        };
        let given = Given {
            profile: backend.profile(),
            health: initial_health,
            cast_seed: boot_cast_seed(),
        };
        let mut room = Room::new(&config, device_settings, given);
        let (displays, display_watcher) = follow_displays(&config, &mut room, &shutdown).unzip();
        let (room, owner) = owner::spawn(
            room,
            backend.clone(),
            Inputs {
                reports,
                displays,
                health,
            },
            settings,
            shutdown.clone(),
        );
        // A room owner that panicked would leave the server answering from its last snapshot,
        // with every call refused: stop the daemon instead, so that it is restarted.
        let owner_shutdown = shutdown.clone();
        let owner = tokio::spawn(async move {
            let ended = owner.await;
            if ended.as_ref().is_err_and(tokio::task::JoinError::is_panic) {
                tracing::error!("internal error: the room's owner task panicked; stopping");
                owner_shutdown.cancel();
                return false;
            }
            true
        });
        let fleet =
            crate::fleet::start(&config, room.clone(), shutdown.clone()).map_err(|message| {
                shutdown.cancel();
                StartError::Fleet(message)
            })?;
        let server_config = config.server.clone();
        let server_shutdown = shutdown.clone();
        let server = tokio::spawn(async move {
            // If the server ever ends on its own (a panic included), the daemon stops with it
            // rather than living on unreachable while its owner keeps the watchdog fed.
            let _stop_all = server_shutdown.clone().drop_guard();
            server::run(listener, room, &server_config, server_shutdown).await
        });
        tracing::info!(
            addr = %local_addr,
            backend = backend.profile().service,
            auth = !config.server.password.is_empty(),
            "ready: serving the Rooms protocol on ws://{local_addr}/"
        );
        Ok(Self {
            local_addr,
            shutdown,
            server,
            owner,
            settings_writer,
            display_watcher,
            fleet,
        })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// A token that stops the daemon when cancelled.
    pub fn shutdown_token(&self) -> CancellationToken {
        self.shutdown.clone()
    }

    /// Stops accepting, closes every client with 1001, lets backend operations under way finish
    /// or time out, and returns when all is done.
    pub async fn stop(self) {
        self.shutdown.cancel();
        if let Err(crashed) = self.stopped().await {
            tracing::error!("{crashed}");
        }
    }

    /// Waits until the daemon has stopped: after its shutdown token is cancelled, or on its own
    /// when a part of it failed (then the error says which).
    pub async fn stopped(self) -> Result<(), Crashed> {
        let _ = self.server.await;
        let owner_ok = self.owner.await.unwrap_or(false);
        if let Some(writer) = self.settings_writer {
            let _ = writer.await;
        }
        if let Some(fleet) = self.fleet {
            let _ = fleet.await;
        }
        if let Some(watcher) = self.display_watcher {
            let _ = watcher.await;
        }
        tracing::info!("stopped");
        if owner_ok {
            Ok(())
        } else {
            Err(Crashed::OwnerPanicked)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cast_seed_is_stable_for_the_boot() {
        if std::path::Path::new("/proc/sys/kernel/random/boot_id").exists() {
            assert_eq!(boot_cast_seed(), boot_cast_seed());
        }
    }
}
