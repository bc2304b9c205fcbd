//! The room's settings that survive a restart (speaker volume, microphone and camera defaults,
//! camera framing), kept in a small JSON file in the service's state directory.
//!
//! Writes are atomic: a temporary file in the same directory is written, flushed to disk and
//! renamed over the old one, so a power cut leaves the old settings or the new, never half a
//! file. A file that cannot be read or parsed is logged and the defaults are used: a room must
//! start even when its state is damaged.

use std::io::Write;
use std::path::{Path, PathBuf};

use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::config::Config;
use crate::room::device::DeviceSettings;

const FILE_NAME: &str = "state.json";

/// The settings file, or why there is none.
#[derive(Debug, Clone)]
pub struct StateFile {
    path: PathBuf,
}

impl StateFile {
    /// `room.state_dir`, else systemd's `$STATE_DIRECTORY` (from `StateDirectory=`); `None` when
    /// neither is set, and then settings last until the daemon stops.
    pub fn locate(config: &Config) -> Option<Self> {
        let dir = if config.room.state_dir.is_empty() {
            // systemd may pass several directories separated by ':'; the first is ours.
            let from_systemd = std::env::var_os("STATE_DIRECTORY")?;
            let first = from_systemd.to_string_lossy().split(':').next()?.to_owned();
            PathBuf::from(first)
        } else {
            PathBuf::from(&config.room.state_dir)
        };
        Some(Self::in_dir(&dir))
    }

    pub fn in_dir(dir: &Path) -> Self {
        Self {
            path: dir.join(FILE_NAME),
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The saved settings; the defaults when there are none yet, or (logged) when the file is
    /// unreadable, corrupt or holds values out of range.
    pub fn load(&self) -> DeviceSettings {
        let text = match std::fs::read_to_string(&self.path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                tracing::info!(path = %self.path.display(), "no saved settings yet; using the defaults");
                return DeviceSettings::default();
            }
            Err(e) => {
                tracing::warn!(path = %self.path.display(), error = %e, "cannot read the saved settings; using the defaults");
                return DeviceSettings::default();
            }
        };
        match serde_json::from_str::<DeviceSettings>(&text)
            .map_err(|e| e.to_string())
            .and_then(|s| s.check().map(|()| s))
        {
            Ok(settings) => settings,
            Err(e) => {
                tracing::warn!(path = %self.path.display(), error = %e, "the saved settings are damaged; using the defaults (the file is replaced at the next change)");
                DeviceSettings::default()
            }
        }
    }

    /// Writes `settings` atomically: temporary file, fsync, rename, fsync of the directory.
    pub fn save(&self, settings: &DeviceSettings) -> std::io::Result<()> {
        let dir = self.path.parent().unwrap_or(Path::new("."));
        std::fs::create_dir_all(dir)?;
        let mut file = tempfile::NamedTempFile::new_in(dir)?;
        serde_json::to_writer_pretty(&mut file, settings)?;
        file.write_all(b"\n")?;
        file.as_file().sync_all()?;
        file.persist(&self.path).map_err(|e| e.error)?;
        // The rename itself is durable only once the directory is.
        std::fs::File::open(dir)?.sync_all()
    }

    /// Saves every new value `settings` takes, until its sender is gone (the last value is
    /// saved first). Bursts of changes are coalesced: only the latest value is written.
    pub fn spawn_writer(self, mut settings: watch::Receiver<DeviceSettings>) -> JoinHandle<()> {
        tokio::spawn(async move {
            while settings.changed().await.is_ok() {
                let value = settings.borrow_and_update().clone();
                let file = self.clone();
                let saved = tokio::task::spawn_blocking(move || file.save(&value)).await;
                match saved {
                    Ok(Ok(())) => {
                        tracing::debug!(path = %self.path.display(), "settings saved");
                    }
                    Ok(Err(e)) => {
                        tracing::error!(path = %self.path.display(), error = %e, "cannot save the settings; they will be lost at restart");
                    }
                    Err(e) => tracing::error!(error = %e, "the settings writer failed"),
                }
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn changed() -> DeviceSettings {
        DeviceSettings {
            speaker_volume: 23,
            mic_on: false,
            camera_frame_mode: 3,
            ..DeviceSettings::default()
        }
    }

    #[test]
    fn saved_settings_load_back() {
        let dir = tempfile::tempdir().unwrap();
        let file = StateFile::in_dir(dir.path());
        assert_eq!(file.load(), DeviceSettings::default());
        file.save(&changed()).unwrap();
        assert_eq!(file.load(), changed());
        // Nothing but the file itself is left behind.
        let names: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(names.len(), 1);
    }

    #[test]
    fn damaged_files_give_the_defaults() {
        let dir = tempfile::tempdir().unwrap();
        let file = StateFile::in_dir(dir.path());
        for damage in [
            "{\"speaker_volume\": ",
            "[]",
            "{\"speaker_volume\": 250}",
            "{\"camera_frame_mode\": 9}",
            "\u{0}\u{1}",
        ] {
            std::fs::write(file.path(), damage).unwrap();
            assert_eq!(file.load(), DeviceSettings::default(), "{damage:?}");
        }
        // A damaged file is replaced by the next save.
        file.save(&changed()).unwrap();
        assert_eq!(file.load(), changed());
    }

    #[test]
    fn missing_keys_take_their_defaults() {
        let dir = tempfile::tempdir().unwrap();
        let file = StateFile::in_dir(dir.path());
        std::fs::write(file.path(), r#"{"speaker_volume": 7, "future_key": 1}"#).unwrap();
        assert_eq!(
            file.load(),
            DeviceSettings {
                speaker_volume: 7,
                ..DeviceSettings::default()
            }
        );
    }

    #[tokio::test]
    async fn the_writer_saves_the_last_value_before_it_stops() {
        let dir = tempfile::tempdir().unwrap();
        let file = StateFile::in_dir(dir.path());
        let (tx, rx) = watch::channel(DeviceSettings::default());
        let writer = file.clone().spawn_writer(rx);
        tx.send_replace(DeviceSettings {
            speaker_volume: 1,
            ..DeviceSettings::default()
        });
        tx.send_replace(changed());
        drop(tx);
        writer.await.unwrap();
        assert_eq!(file.load(), changed());
    }
}
