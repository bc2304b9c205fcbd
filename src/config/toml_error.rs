//! TOML errors as people read them, without the secrets of the file.
//!
//! `toml` shows the offending line under its message. When that line sets a password, a
//! secret, a token or an application key, that would print the value to a terminal, a CI log
//! or the journal. So for such a line the value is hidden, from the line and from the message,
//! while the line and the key are still named. The column is left out too: where a parse error
//! stops can tell the value's length.

/// Key names whose values are secret: `password`, and any name holding `secret` or `token` or
/// ending in `_key` (`oauth_consumer_key`). Decided by name, so a new backend's keys are
/// covered when they are named like these.
fn is_secret_name(name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    name == "password"
        || name.contains("secret")
        || name.contains("token")
        || name.ends_with("_key")
}

/// What replaces a hidden value.
const HIDDEN: &str = "(hidden)";

/// `error`, met parsing `text`, rendered as `toml` does unless the line it points at may hold a
/// secret.
pub(super) fn describe(text: &str, error: &toml::de::Error) -> String {
    let key = error_key(error);
    let Some(span) = error.span() else {
        // No line to show: the message alone, and the key.
        let message = match &key {
            Some(key) if key.rsplit('.').next().is_some_and(is_secret_name) => {
                scrub(error.message(), None)
            }
            _ => error.message().to_owned(),
        };
        return match key {
            Some(key) => format!("{message}\nin `{key}`"),
            None => message,
        };
    };
    let start = span.start.min(text.len());
    let line_index = text[..start].matches('\n').count();
    let line_start = text[..start].rfind('\n').map_or(0, |i| i + 1);
    let line = text[line_start..]
        .split('\n')
        .next()
        .unwrap_or_default()
        .trim_end_matches('\r');
    let Some(hidden_from) = secret_part(line, key.as_deref(), error.message()) else {
        return error.to_string().trim_end().to_owned();
    };
    let key = key.or_else(|| key_of_line(text, line_index));
    let line_number = line_index + 1;
    let gutter = " ".repeat(line_number.to_string().len());
    let shown = match line[..hidden_from].trim_end() {
        "" => HIDDEN.to_owned(),
        kept => format!("{kept} {HIDDEN}"),
    };
    let named = key.map(|k| format!(", key `{k}`")).unwrap_or_default();
    format!(
        "TOML parse error at line {line_number}{named}\n\
         {gutter} |\n\
         {line_number} | {shown}\n\
         {gutter} |\n\
         {message}\n\
         (the value is not shown: it may be a secret)",
        message = scrub(error.message(), Some(&line[hidden_from..])),
    )
}

/// Where the hidden part of `line` starts, when something of it must be hidden: after the `=`
/// of a line that names a secret key (or whose error is about such a key, or about an unknown
/// key, which may be a misspelt secret), or the whole line when it has no `=` and is no table
/// header (it may continue a multi-line value).
fn secret_part(line: &str, key: Option<&str>, message: &str) -> Option<usize> {
    let trimmed = line.trim_start();
    if trimmed.is_empty() || trimmed.starts_with('#') || trimmed.starts_with('[') {
        return None;
    }
    let Some(equals) = line.find('=') else {
        return Some(0);
    };
    let names_secret = line
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '-'))
        .any(is_secret_name);
    let about_secret = key
        .and_then(|k| k.rsplit('.').next())
        .is_some_and(is_secret_name);
    let unknown_key = message.starts_with("unknown field");
    (names_secret || about_secret || unknown_key).then_some(equals + 1)
}

/// `message` with the backquoted values that come from `hidden` replaced: the whole value, or a
/// part of it three characters long or more. (The parser's own messages quote the characters it
/// expected, such as `"`, never the input.) Every backquoted value when `hidden` is not known.
fn scrub(message: &str, hidden: Option<&str>) -> String {
    let mut out = String::with_capacity(message.len());
    let mut rest = message;
    while let Some(open) = rest.find('`') {
        let Some(close) = rest[open + 1..].find('`').map(|i| open + 1 + i) else {
            break;
        };
        let quoted = &rest[open + 1..close];
        out.push_str(&rest[..open]);
        let from_hidden = hidden.is_none_or(|h| {
            h.trim() == quoted || (quoted.chars().count() >= 3 && h.contains(quoted))
        });
        if !quoted.is_empty() && from_hidden {
            out.push_str(HIDDEN);
        } else {
            out.push_str(&rest[open..=close]);
        }
        rest = &rest[close + 1..];
    }
    out.push_str(rest);
    out
}

/// The dotted key the error is about, when `toml` knows it. It renders the key (`in
/// `server.password``) only for an error that has no input to show, so ask it that way.
fn error_key(error: &toml::de::Error) -> Option<String> {
    let mut bare = error.clone();
    bare.set_input(None);
    let rendered = bare.to_string();
    let key = rendered
        .strip_prefix(error.message())?
        .strip_prefix("\nin `")?
        .strip_suffix("`\n")?;
    (!key.is_empty()).then(|| key.to_owned())
}

/// For a syntax error (which `toml` gives no key): the key written on line `index`, or on the
/// nearest line above with a `=` when it continues a value, under the table header above it.
fn key_of_line(text: &str, index: usize) -> Option<String> {
    let lines: Vec<&str> = text.split('\n').collect();
    let index = (0..=index).rev().find(|&i| {
        lines
            .get(i)
            .is_some_and(|l| l.contains('=') && !l.trim_start().starts_with('['))
    })?;
    let (name, _) = lines[index].split_once('=')?;
    let name = name.trim();
    if name.is_empty() {
        return None;
    }
    let table = lines[..index].iter().rev().find_map(|l| {
        let l = l.trim();
        l.starts_with('[')
            .then(|| l.trim_matches(|c| c == '[' || c == ']').trim())
    });
    Some(match table {
        Some(table) if !table.is_empty() => format!("{table}.{name}"),
        _ => name.to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(text: &str) -> String {
        super::super::Config::parse(text, &crate::backend::sections()).unwrap_err()
    }

    fn assert_hidden(text: &str, secret: &str, line: usize, key: &str) {
        let err = err(text);
        assert!(!err.contains(secret), "the secret shows: {err}");
        assert!(err.contains(&format!("line {line}")), "no line: {err}");
        assert!(err.contains(key), "no key: {err}");
    }

    #[test]
    fn a_badly_typed_password_is_named_not_shown() {
        assert_hidden(
            "[server]\nlisten = \"127.0.0.1:1\"\npassword = 90210\n",
            "90210",
            3,
            "server.password",
        );
        assert_hidden(
            "[server]\npassword = [\"hunter2\"]\n",
            "hunter2",
            2,
            "server.password",
        );
    }

    #[test]
    fn syntax_errors_in_a_secret_line_hide_it() {
        // Unterminated, a bad escape, a bare value: the parser's own errors.
        assert_hidden(
            "[server]\npassword = \"hunter2\n",
            "hunter2",
            2,
            "server.password",
        );
        assert_hidden(
            "[kedacom]\noauth_consumer_secret = \"s3\\qcret\"\n",
            "s3",
            2,
            "kedacom.oauth_consumer_secret",
        );
        assert_hidden(
            "[rsc]\ntoken = t0ken-value\n",
            "t0ken-value",
            2,
            "rsc.token",
        );
    }

    #[test]
    fn every_backend_secret_is_hidden() {
        for (section, key) in [
            ("kedacom", "password"),
            ("kedacom", "oauth_consumer_key"),
            ("kedacom", "oauth_consumer_secret"),
            ("easemob", "client_secret"),
            ("rsc", "token"),
            ("hiar", "app_secret"),
        ] {
            assert_hidden(
                &format!("[{section}]\n{key} = 31337\n"),
                "31337",
                2,
                &format!("{section}.{key}"),
            );
        }
    }

    #[test]
    fn a_misspelt_or_inline_secret_is_hidden() {
        let err = err("[server]\npasword = \"hunter2\"\n");
        assert!(!err.contains("hunter2") && err.contains("line 2"), "{err}");
        assert!(err.contains("pasword"), "the unknown key is named: {err}");
        assert_hidden(
            "server = { listen = \"127.0.0.1:1\", password = 12 }\n",
            "= 12",
            1,
            "password",
        );
    }

    #[test]
    fn the_continuation_of_a_multiline_value_is_hidden() {
        let err = err("[server]\npassword = \"\"\"\nhunter2\\q\"\"\"\n");
        assert!(!err.contains("hunter2") && err.contains("line 3"), "{err}");
        assert!(err.contains("server.password"), "{err}");
    }

    #[test]
    fn other_lines_show_as_toml_shows_them() {
        let text = "[screens]\ncount = 3\n";
        let toml_error = toml::from_str::<super::super::Config>(text).unwrap_err();
        assert_eq!(err(text), toml_error.to_string().trim_end());
        assert!(err(text).contains("count = 3"));
    }

    #[test]
    fn scrub_hides_the_quoted_values_in_the_hidden_text() {
        assert_eq!(
            scrub(
                "invalid type: integer `123`, expected a string",
                Some(" 123")
            ),
            "invalid type: integer (hidden), expected a string"
        );
        assert_eq!(
            scrub("unknown field `x`, expected `password`", Some(" \"y\"")),
            "unknown field `x`, expected `password`"
        );
        assert_eq!(
            scrub("invalid type: integer `12`, expected a string", Some(" 12")),
            "invalid type: integer (hidden), expected a string"
        );
        // What the parser expected is no part of the value.
        assert_eq!(
            scrub("invalid basic string, expected `\"`", Some(" \"hunter2")),
            "invalid basic string, expected `\"`"
        );
        assert_eq!(scrub("a `b` c `d", None), "a (hidden) c `d");
    }
}
