//! Checked-in files rendered from the code (`docs/STATE-MACHINES.md`, `schemas/`): tests compare
//! them with what the code renders now, and rewrite them only when asked, so a test run never
//! changes tracked files on its own.

use std::path::Path;

/// Fails while `path` (relative to the crate) differs from `contents`, saying `why` and how to
/// regenerate it; with the environment variable `update` set, writes `contents` instead.
pub fn ensure_current(path: &str, contents: &str, update: &str, test: &str, why: &str) {
    let file = Path::new(env!("CARGO_MANIFEST_DIR")).join(path);
    if std::env::var_os(update).is_some() {
        std::fs::create_dir_all(file.parent().expect("a file in a directory")).unwrap();
        std::fs::write(&file, contents).unwrap_or_else(|e| panic!("writing {path}: {e}"));
        return;
    }
    let checked_in = std::fs::read_to_string(&file).unwrap_or_default();
    assert!(
        checked_in == contents,
        "{path} is stale: {why}. Run `{update}=1 cargo test --lib {test}` and commit it"
    );
}
