//! The serializer that writes JSON exactly as the vendor's device does (and as Python's
//! `json.dumps(..., ensure_ascii=False)` does): `", "` between items, `": "` after keys, nothing
//! else, non-ASCII text as UTF-8.
//!
//! One difference: `{` and `}` inside strings are written as `\u007b` and `\u007d`. Drivers end
//! their match of a reply at the first `}}}}` (PROTOCOL.md §2.2), so a meeting title such as
//! `"x}}}}"`, chosen by whoever booked the meeting, would cut their match short and wedge them.
//! Escaped, the text reads back unchanged in every JSON parser, and the only braces on the wire
//! are the structure's own. The vendor's strings never hold braces, so its examples are
//! unchanged byte for byte.

use std::io;

use serde::Serialize;
use serde_json::ser::{Formatter, Serializer};

/// `serde_json`'s compact formatter with one space after each comma and colon.
struct WireFormatter;

impl Formatter for WireFormatter {
    fn begin_array_value<W: ?Sized + io::Write>(
        &mut self,
        w: &mut W,
        first: bool,
    ) -> io::Result<()> {
        if first { Ok(()) } else { w.write_all(b", ") }
    }

    fn begin_object_key<W: ?Sized + io::Write>(
        &mut self,
        w: &mut W,
        first: bool,
    ) -> io::Result<()> {
        if first { Ok(()) } else { w.write_all(b", ") }
    }

    fn begin_object_value<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        w.write_all(b": ")
    }

    /// Text between escapes, keys included: braces become `\u007b` and `\u007d`.
    fn write_string_fragment<W: ?Sized + io::Write>(
        &mut self,
        w: &mut W,
        fragment: &str,
    ) -> io::Result<()> {
        write_escaping_braces(w, fragment)
    }
}

/// Writes `text`, the inside of a JSON string, with `{` and `}` as `\u` escapes.
fn write_escaping_braces<W: ?Sized + io::Write>(w: &mut W, text: &str) -> io::Result<()> {
    let bytes = text.as_bytes();
    let mut start = 0;
    for (i, &byte) in bytes.iter().enumerate() {
        let escape: &[u8] = match byte {
            b'{' => b"\\u007b",
            b'}' => b"\\u007d",
            _ => continue,
        };
        w.write_all(&bytes[start..i])?;
        w.write_all(escape)?;
        start = i + 1;
    }
    w.write_all(&bytes[start..])
}

/// Appends the wire form of `value` to `out`.
fn write_wire<T: Serialize + ?Sized>(out: &mut Vec<u8>, value: &T) {
    let mut ser = Serializer::with_formatter(out, WireFormatter);
    // Serializing our own types into a Vec cannot fail: they have string keys only and no
    // fallible `Serialize` impls.
    value
        .serialize(&mut ser)
        .expect("wire types always serialize");
}

/// The wire form of `value` as a string.
pub fn to_wire<T: Serialize + ?Sized>(value: &T) -> String {
    let mut out = Vec::with_capacity(128);
    write_wire(&mut out, value);
    // serde_json writes valid UTF-8 only.
    String::from_utf8(out).expect("serde_json writes UTF-8")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn separators_match_python_json_dumps() {
        let v = json!({"a": [1, 2, {"b": null}], "c": "x"});
        assert_eq!(to_wire(&v), r#"{"a": [1, 2, {"b": null}], "c": "x"}"#);
    }

    #[test]
    fn empty_containers_have_no_inner_space() {
        assert_eq!(to_wire(&json!({"a": [], "b": {}})), r#"{"a": [], "b": {}}"#);
    }

    #[test]
    fn non_ascii_is_utf8_not_escaped() {
        assert_eq!(
            to_wire(&json!("Room 101的快速会议")),
            "\"Room 101的快速会议\""
        );
    }

    #[test]
    fn control_characters_and_quotes_are_escaped_on_one_line() {
        assert_eq!(to_wire(&json!("a\"b\nc")), r#""a\"b\nc""#);
    }

    #[test]
    fn braces_in_strings_are_escaped_and_read_back_unchanged() {
        let title = "Plan {Q3} }}}} \"{\" 的}";
        let value = json!({"meeting_title": title, "list": [{"k{}": "}"}]});
        let wire = to_wire(&value);
        assert_eq!(
            wire,
            r#"{"meeting_title": "Plan \u007bQ3\u007d \u007d\u007d\u007d\u007d \"\u007b\" 的\u007d", "list": [{"k\u007b\u007d": "\u007d"}]}"#
        );
        // The only braces left are the structure's own.
        assert_eq!(wire.matches('{').count(), 2);
        assert_eq!(wire.matches('}').count(), 2);
        let back: serde_json::Value = serde_json::from_str(&wire).unwrap();
        assert_eq!(back, value);
        assert_eq!(back["meeting_title"], title);
    }
}
