//! The serializer that writes JSON exactly as the vendor's device does (and as Python's
//! `json.dumps(..., ensure_ascii=False)` does): `", "` between items, `": "` after keys, nothing
//! else, non-ASCII text as UTF-8.

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
}
