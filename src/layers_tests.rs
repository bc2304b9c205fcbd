//! The crate's layers, held: a top-level module may use only modules of lower layers. The
//! compiler allows any path inside a crate, so this test reads every `crate::` path of the
//! library's code and names the file and line of one that reaches up or sideways. The order is
//! explained in `docs/ARCHITECTURE.md` ("Layers"); change both together.
//!
//! Test code (`#[cfg(test)]` files and `mod tests`) is not held: a unit test may assemble a
//! room with the real services' declarations, as the daemon does.

use std::path::{Path, PathBuf};

/// Bottom to top. Modules in one layer are siblings: they do not use each other.
const LAYERS: &[&[&str]] = &[
    &["wire", "generated"],
    &["domain"],
    &["modules"],
    &["config"],
    &["backend", "room", "displays"],
    &["schema", "state_file", "systemd"],
    &["server"],
    &["fleet"],
    &["daemon", "manpage"],
];

fn layer_of(module: &str) -> Option<usize> {
    LAYERS.iter().position(|layer| layer.contains(&module))
}

/// The library's source files under `dir` that are compiled outside tests.
fn production_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            production_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The files `#[cfg(test)] mod name;` declares in `file`: compiled for tests only.
fn test_only_children(file: &Path, text: &str) -> Vec<PathBuf> {
    let dir = match file.file_name().and_then(|n| n.to_str()) {
        Some("mod.rs" | "lib.rs") => file.parent().unwrap().to_path_buf(),
        _ => file.with_extension(""),
    };
    let lines: Vec<&str> = text.lines().map(str::trim).collect();
    let mut children = Vec::new();
    for pair in lines.windows(2) {
        let declared = pair[1]
            .strip_prefix("mod ")
            .or_else(|| pair[1].strip_prefix("pub mod "))
            .and_then(|rest| rest.strip_suffix(';'));
        if let (true, Some(name)) = (pair[0] == "#[cfg(test)]", declared) {
            children.push(dir.join(format!("{name}.rs")));
            children.push(dir.join(name));
        }
    }
    children
}

/// The top-level modules named by `crate::` paths on `line`.
fn used_modules(line: &str) -> Vec<&str> {
    let mut used = Vec::new();
    let mut rest = line;
    while let Some(at) = rest.find("crate::") {
        let after = &rest[at + "crate::".len()..];
        let end = after
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(after.len());
        // `$crate::` in macros and `roomsd_crate::` are not this crate's paths.
        let before = rest[..at].chars().next_back();
        if !before.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_' || c == '$') {
            used.push(&after[..end]);
        }
        rest = &after[end..];
    }
    used
}

/// Every upward or sideways use in the library: `file:line: ...`.
fn violations() -> Vec<String> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    for module in LAYERS.iter().flat_map(|layer| layer.iter()) {
        let single = src.join(format!("{module}.rs"));
        if single.exists() {
            files.push(single);
        }
        let dir = src.join(module);
        if dir.is_dir() {
            production_files(&dir, &mut files);
        }
    }
    let mut test_only: Vec<PathBuf> = Vec::new();
    let mut found = Vec::new();
    for file in &files {
        let text = std::fs::read_to_string(file).unwrap();
        test_only.extend(test_only_children(file, &text));
        if test_only.iter().any(|t| file.starts_with(t)) {
            continue;
        }
        let relative = file.strip_prefix(&src).unwrap();
        let own = relative
            .components()
            .next()
            .unwrap()
            .as_os_str()
            .to_str()
            .unwrap()
            .trim_end_matches(".rs");
        let own_layer = layer_of(own).unwrap();
        let mut previous = "";
        for (number, raw) in text.lines().enumerate() {
            let line = raw.trim();
            if previous == "#[cfg(test)]" && line.starts_with("mod tests") {
                break;
            }
            let test_only_line = previous == "#[cfg(test)]";
            previous = line;
            if line.starts_with("//") || test_only_line {
                continue;
            }
            for used in used_modules(line) {
                if used == own {
                    continue;
                }
                let ok = layer_of(used).is_some_and(|layer| layer < own_layer);
                if !ok {
                    found.push(format!(
                        "src/{}:{}: `{own}` uses `crate::{used}`, which is not in a lower layer",
                        relative.display(),
                        number + 1
                    ));
                }
            }
        }
    }
    found
}

#[test]
fn every_module_uses_only_lower_layers() {
    let found = violations();
    assert!(found.is_empty(), "layer violations:\n{}", found.join("\n"));
}

#[test]
fn every_top_level_module_has_a_layer() {
    let lib =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("src/lib.rs")).unwrap();
    let lines: Vec<&str> = lib.lines().map(str::trim).collect();
    for pair in lines.windows(2) {
        let line = pair[1];
        let Some(name) = line
            .strip_prefix("pub mod ")
            .or_else(|| line.strip_prefix("mod "))
            .and_then(|rest| rest.strip_suffix(';'))
        else {
            continue;
        };
        if pair[0] == "#[cfg(test)]" && name.ends_with("_tests") {
            continue;
        }
        assert!(
            layer_of(name).is_some(),
            "src/lib.rs: `{name}` has no layer"
        );
    }
}

#[test]
fn an_upward_use_is_found() {
    assert_eq!(
        used_modules("use crate::backend::{Health, X};"),
        ["backend"]
    );
    assert_eq!(
        used_modules("let a = crate::wire::x(crate::room::y); // $crate::z"),
        ["wire", "room"]
    );
}
