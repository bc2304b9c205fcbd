//! The room's settings that survive a restart (speaker volume, microphone and camera defaults,
//! camera framing), kept in a small JSON file in the service's state directory.
//!
//! Writes are atomic: a temporary file in the same directory is written, flushed to disk and
//! renamed over the old one, so a power cut leaves the old settings or the new, never half a
//! file. A file that cannot be read or parsed is logged and the defaults are used: a room must
//! start even when its state is damaged.
//!
//! A crash during a save leaves its temporary file behind. Temporary files are named
//! `.state.json.XXXXXX.tmp`, and [`StateFile::load`], which runs once at start before any save,
//! removes those left over (and the `.tmpXXXXXX` files that versions before this naming left).

use std::io::Write;
use std::path::{Path, PathBuf};

use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::config::Config;
use crate::room::device::DeviceSettings;

const FILE_NAME: &str = "state.json";
/// Temporary files of a save: `.state.json.XXXXXX.tmp`.
const TEMP_PREFIX: &str = ".state.json.";
const TEMP_SUFFIX: &str = ".tmp";

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
    /// unreadable, corrupt or holds values out of range. Removes the temporary files of saves
    /// that a crash interrupted: call it at start, before the writer runs.
    pub fn load(&self) -> DeviceSettings {
        self.remove_stale_temp_files();
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

    fn dir(&self) -> &Path {
        self.path.parent().unwrap_or(Path::new("."))
    }

    /// Removes what interrupted saves left in the directory: our temporary files, and the
    /// unnamed ones earlier versions wrote (`.tmp` and six characters, empty or a JSON object,
    /// so that nobody else's file in a shared directory is touched). Failures are logged only.
    fn remove_stale_temp_files(&self) {
        let Ok(entries) = std::fs::read_dir(self.dir()) else {
            return; // No directory yet, or unreadable: `load` says so if it matters.
        };
        for entry in entries.flatten() {
            let name = entry.file_name();
            let Some(name) = name.to_str() else { continue };
            let ours = name.starts_with(TEMP_PREFIX) && name.ends_with(TEMP_SUFFIX);
            if !ours && !is_legacy_temp_file(name, &entry.path()) {
                continue;
            }
            match std::fs::remove_file(entry.path()) {
                Ok(()) => {
                    tracing::info!(path = %entry.path().display(), "removed the temporary file of an interrupted save");
                }
                Err(e) => {
                    tracing::warn!(path = %entry.path().display(), error = %e, "cannot remove the temporary file of an interrupted save");
                }
            }
        }
    }

    /// Writes `settings` atomically: temporary file, fsync, rename, fsync of the directory.
    pub fn save(&self, settings: &DeviceSettings) -> std::io::Result<()> {
        let dir = self.dir();
        std::fs::create_dir_all(dir)?;
        let mut file = tempfile::Builder::new()
            .prefix(TEMP_PREFIX)
            .suffix(TEMP_SUFFIX)
            .tempfile_in(dir)?;
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

/// `.tmpXXXXXX` (tempfile's default name, which saves used before they had a prefix of their
/// own) holding nothing or a JSON object: what such a save left.
fn is_legacy_temp_file(name: &str, path: &Path) -> bool {
    let Some(random) = name.strip_prefix(".tmp") else {
        return false;
    };
    if random.len() != 6 || !random.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return false;
    }
    match std::fs::read(path) {
        Ok(bytes) => bytes.is_empty() || bytes.starts_with(b"{"),
        Err(_) => false,
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
    fn saves_name_their_temporary_files() {
        let dir = tempfile::tempdir().unwrap();
        let file = StateFile::in_dir(dir.path());
        // What a save makes before the rename, as a crash would leave it.
        let temp = tempfile::Builder::new()
            .prefix(TEMP_PREFIX)
            .suffix(TEMP_SUFFIX)
            .tempfile_in(dir.path())
            .unwrap();
        let name = temp
            .path()
            .file_name()
            .unwrap()
            .to_str()
            .unwrap()
            .to_owned();
        assert!(
            name.starts_with(".state.json.") && name.ends_with(".tmp"),
            "{name}"
        );
        let (_, kept) = temp.keep().unwrap();
        file.save(&changed()).unwrap();
        assert!(kept.exists(), "a save removes nothing");
    }

    #[test]
    fn load_removes_what_interrupted_saves_left() {
        let dir = tempfile::tempdir().unwrap();
        let file = StateFile::in_dir(dir.path());
        file.save(&changed()).unwrap();
        let left = [
            (".state.json.a1B2c3.tmp", "{\"speaker_vol"),
            (".state.json.zzzzzz.tmp", ""),
            // Left by versions whose temporary files had tempfile's default name.
            (".tmpQx7Rt2", "{\n  \"mic_on\": false"),
            (".tmpAAAAAA", ""),
        ];
        let kept = [
            // Not ours: other names, or a `.tmp` file holding something else.
            (".tmpNotOurs", "{}"),
            (".tmpBBBBBB", "other data"),
            ("notes.txt", "{}"),
            (".state.json.bak", "{}"),
        ];
        for (name, text) in left.iter().chain(&kept) {
            std::fs::write(dir.path().join(name), text).unwrap();
        }
        assert_eq!(file.load(), changed());
        let mut names: Vec<String> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        names.sort();
        let mut expected: Vec<String> = kept.iter().map(|(n, _)| n.to_string()).collect();
        expected.push("state.json".into());
        expected.sort();
        assert_eq!(names, expected);
    }

    #[test]
    fn load_without_a_directory_gives_the_defaults() {
        let dir = tempfile::tempdir().unwrap();
        let file = StateFile::in_dir(&dir.path().join("not-yet"));
        assert_eq!(file.load(), DeviceSettings::default());
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
