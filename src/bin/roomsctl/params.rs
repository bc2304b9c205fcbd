//! Action parameters on the command line (`key=text`, `key:=json`, httpie's convention) and their
//! check against the action's schema before anything is sent: the daemon's own answer to a
//! misspelt or mistyped parameter is serde's, or nothing at all for a name it ignores.

use roomsd::modules::Module;
use serde_json::{Map, Value};

use crate::registry::{self, Param};

/// One `key=value` or `key:=json` argument.
#[derive(Debug, Clone, PartialEq)]
pub struct Given {
    pub key: String,
    pub value: Value,
    /// Written `key:=json`, not `key=text`.
    pub json: bool,
}

/// Reads `key=value` (a JSON string) or `key:=json` (that JSON value).
pub fn parse(arg: &str) -> Result<Given, String> {
    let (key, text) = arg
        .split_once('=')
        .ok_or_else(|| format!("{arg:?}: write KEY=TEXT or KEY:=JSON (e.g. volume:=30)"))?;
    let (key, json) = match key.strip_suffix(':') {
        Some(key) => (key, true),
        None => (key, false),
    };
    if key.is_empty() {
        return Err(format!("{arg:?}: the parameter has no name"));
    }
    let value = if json {
        serde_json::from_str(text).map_err(|e| {
            format!("{key}:={text}: not JSON ({e}); to send text, write {key}={text}")
        })?
    } else {
        Value::from(text)
    };
    Ok(Given {
        key: key.into(),
        value,
        json,
    })
}

/// The `action_params` object of `given`.
pub fn object(given: &[Given]) -> Map<String, Value> {
    given
        .iter()
        .map(|g| (g.key.clone(), g.value.clone()))
        .collect()
}

/// Refuses what the daemon would refuse or ignore: unknown names (with the nearest known one),
/// values of the wrong JSON type (saying how to write them), and missing required parameters.
pub fn check(module: &Module, action: &str, given: &[Given]) -> Result<(), String> {
    let params = registry::params(module, action);
    let what = format!("{} {action}", module.name);
    for g in given {
        let Some(param) = params.iter().find(|p| p.name == g.key) else {
            return Err(unknown(&what, &g.key, &params));
        };
        check_type(param, g)?;
    }
    let missing: Vec<String> = params
        .iter()
        .filter(|p| p.required && !given.iter().any(|g| g.key == p.name))
        .map(|p| format!("`{}` ({})", p.usage(), p.kind()))
        .collect();
    if !missing.is_empty() {
        return Err(format!("{what} needs {}", missing.join(" and ")));
    }
    Ok(())
}

fn unknown(what: &str, key: &str, params: &[Param]) -> String {
    let escape = "(--raw sends it unchecked)";
    if params.is_empty() {
        return format!("{what} takes no parameters, not `{key}` {escape}");
    }
    let nearest = params
        .iter()
        .map(|p| (strsim::damerau_levenshtein(key, &p.name), &p.name))
        .min();
    let names: Vec<&str> = params.iter().map(|p| p.name.as_str()).collect();
    match nearest {
        Some((distance, name))
            if distance <= 2 || name.contains(key) || key.contains(name.as_str()) =>
        {
            format!("{what} has no parameter `{key}`: did you mean `{name}`? {escape}")
        }
        _ => format!(
            "{what} has no parameter `{key}`; its parameters: {} {escape}",
            names.join(", ")
        ),
    }
}

fn check_type(param: &Param, given: &Given) -> Result<(), String> {
    let name = &param.name;
    if !given.json {
        if param.takes_text() {
            return Ok(());
        }
        let text = given.value.as_str().unwrap_or_default();
        let example = match serde_json::from_str::<Value>(text) {
            Ok(value) if fits(param, &value) => text.to_owned(),
            _ => example(param),
        };
        return Err(format!(
            "`{name}` is {}: write `{name}:={example}` (`=` sends text)",
            article(&param.kind())
        ));
    }
    if fits(param, &given.value) {
        return Ok(());
    }
    let value = &given.value;
    Err(format!(
        "`{name}` is {}, not {value}: e.g. `{}{}`",
        article(&param.kind()),
        param.usage(),
        example(param)
    ))
}

/// Whether `value` is of one of the parameter's JSON types (null: leave it to the daemon).
fn fits(param: &Param, value: &Value) -> bool {
    if param.types.is_empty() || value.is_null() {
        return true;
    }
    param.types.iter().any(|t| match t.as_str() {
        "string" => value.is_string(),
        "integer" => value.as_f64().is_some_and(|n| n.fract() == 0.0),
        "number" => value.is_number(),
        "boolean" => value.is_boolean(),
        "object" => value.is_object(),
        "array" => value.is_array(),
        _ => true,
    })
}

fn example(param: &Param) -> String {
    match param.types.first().map(String::as_str) {
        Some("boolean") => "false".into(),
        Some("integer" | "number") => param.range.map_or(1.0, |(min, _)| min.max(1.0)).to_string(),
        Some("object") => "{}".into(),
        Some("array") => "[]".into(),
        _ => "\"text\"".into(),
    }
}

fn article(kind: &str) -> String {
    match kind {
        "true or false" => kind.into(),
        k if k.starts_with(['a', 'e', 'i', 'o', 'u']) => format!("an {k}"),
        k => format!("a {k}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check_args(module: &str, action: &str, args: &[&str]) -> Result<(), String> {
        let module = registry::module(module).unwrap();
        let given: Vec<Given> = args.iter().map(|a| parse(a).unwrap()).collect();
        check(module, action, &given)
    }

    #[test]
    fn text_and_json_values() {
        assert_eq!(parse("password=").unwrap().value, "");
        assert_eq!(parse("switch_type:=2").unwrap().value, 2);
        assert!(parse("enable:=nope").unwrap_err().contains("enable=nope"));
        assert!(parse("volume").is_err());
    }

    #[test]
    fn misspelt_names_get_the_nearest() {
        let error = check_args("Device", "SetSpeakerVolume", &["volumme:=20"]).unwrap_err();
        assert!(error.contains("did you mean `volume`?"), "{error}");
        let error = check_args("Share", "StopShare", &["x=1"]).unwrap_err();
        assert!(error.contains("takes no parameters"), "{error}");
    }

    #[test]
    fn text_where_a_number_belongs_says_how_to_write_it() {
        let error = check_args("Meeting", "SwitchLayout", &["switch_type=2"]).unwrap_err();
        assert!(
            error.contains("`switch_type` is a number: write `switch_type:=2`"),
            "{error}"
        );
        let error = check_args("Device", "EnableMic", &["enable=false"]).unwrap_err();
        assert!(error.contains("write `enable:=false`"), "{error}");
        let error = check_args("Device", "EnableMic", &["enable:=1"]).unwrap_err();
        assert!(error.contains("true or false, not 1"), "{error}");
    }

    #[test]
    fn required_parameters_are_named_and_text_or_numbers_pass() {
        let error = check_args("Meeting", "JoinMeeting", &["password="]).unwrap_err();
        assert!(error.contains("`meeting_code=`"), "{error}");
        check_args(
            "Meeting",
            "JoinMeeting",
            &["meeting_code=111222333", "password="],
        )
        .unwrap();
        check_args("Meeting", "JoinMeeting", &["meeting_code:=111222333"]).unwrap();
    }
}
