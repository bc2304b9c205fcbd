//! `POST /api/v1/mc/confs` as seed 004 describes it, and calling terminals.
//!
//! `create_type` 1 (instant) must carry every parameter the document marks required (`*`), of
//! the documented type and within the documented values, and a name that keeps the rules
//! (no `% & * ^ ~ ' " ? / \ < > | ` $`, not beginning or ending with `_ - . @`, at most 64
//! bytes) and that no live conference has (20105). Anything else is the fake's 90000.
//! `create_type` 4 starts a virtual meeting room (`template_id` its id; one already in use
//! gives its live conference), 5 a booked meeting early (`template_id` its `meeting_id`).
//! Only `call_mode` 2 (automatic) calls the invitees; 4 and 5 use the room's or booking's
//! settings, which the fake keeps at manual.

use std::sync::Arc;

use serde_json::{Value, json};

use super::routes::{Fail, api, bad, list, string};
use super::{Conf, Person, Shared, State, USERNAME, iso};

/// The JSON type a parameter must have.
#[derive(Clone, Copy, PartialEq)]
enum Kind {
    Int,
    Str,
    Array,
}

use Kind::{Array, Int, Str};

/// Seed 004's required parameters of `create_type` 1.
const REQUIRED: &[(&str, Kind)] = &[
    ("name", Str),
    ("duration", Int),
    ("bitrate", Int),
    ("closed_conf", Int),
    ("safe_conf", Int),
    ("encrypted_type", Int),
    ("conf_type", Int),
    ("call_mode", Int),
    ("call_times", Int),
    ("call_interval", Int),
    ("mute", Int),
    ("force_mute", Int),
    ("silence", Int),
    ("video_quality", Int),
    ("encrypted_key", Str),
    ("dual_mode", Int),
    ("voice_activity_detection", Int),
    ("cascade_mode", Int),
    ("cascade_upload", Int),
    ("cascade_return", Int),
    ("cascade_return_para", Int),
    ("public_conf", Int),
    ("max_join_mt", Int),
    ("auto_end", Int),
    ("preoccupy_resource", Int),
    ("one_reforming", Int),
    ("video_formats", Array),
];

/// The documented values of the enumerated ones.
const VALUES: &[(&str, &[u64])] = &[
    ("closed_conf", &[0, 1]),
    ("safe_conf", &[0, 1]),
    ("encrypted_type", &[0, 2, 3, 4]),
    ("conf_type", &[0, 1, 2, 4]),
    ("call_mode", &[0, 2]),
    ("mute", &[0, 1]),
    ("force_mute", &[0, 1]),
    ("silence", &[0, 1]),
    ("video_quality", &[0, 1]),
    ("dual_mode", &[0, 1]),
    ("voice_activity_detection", &[0, 1]),
    ("cascade_mode", &[0, 1]),
    ("cascade_upload", &[0, 1]),
    ("cascade_return", &[0, 1]),
    ("public_conf", &[0, 1]),
    ("max_join_mt", &[8, 32, 64, 192]),
    ("auto_end", &[0, 1]),
    ("preoccupy_resource", &[0, 1, 2]),
    ("one_reforming", &[0, 1]),
];

const FORBIDDEN: &str = "%&*^~'\"?/\\<>|`$\u{201c}\u{201d}";
const NOT_AT_ENDS: &str = "_-.@";

fn has(v: &Value, kind: Kind) -> bool {
    match kind {
        Int => v.is_u64(),
        Str => v.is_string(),
        Array => v.is_array(),
    }
}

/// `fields` of `object` (named `what`) are there with their kinds.
fn require(object: &Value, what: &str, fields: &[(&str, Kind)]) -> Result<(), Fail> {
    for (key, kind) in fields {
        if !has(&object[*key], *kind) {
            return Err(bad(&format!("{what}{key} missing or of the wrong type")));
        }
    }
    Ok(())
}

/// A `create_type` 1 request as the document wants it.
fn check_instant(st: &State, params: &Value) -> Result<(), Fail> {
    require(params, "", REQUIRED)?;
    for (key, values) in VALUES {
        if !values.contains(&params[*key].as_u64().unwrap_or(u64::MAX)) {
            return Err(bad(&format!("{key} must be one of {values:?}")));
        }
    }
    if params["conf_type"] == 4 && !params["mt_supported_protocol"].is_array() {
        return Err(bad("conf_type 4 needs mt_supported_protocol"));
    }
    let formats = list(params, "video_formats")?;
    if formats.is_empty() {
        return Err(bad("video_formats is empty"));
    }
    let format = [
        ("format", Int),
        ("resolution", Int),
        ("frame", Int),
        ("bitrate", Int),
    ];
    for f in &formats {
        require(f, "video_formats[].", &format)?;
    }
    let member = [("name", Str), ("account", Str), ("account_type", Int)];
    for m in list(params, "invite_members")? {
        require(&m, "invite_members[].", &member)?;
        require(
            &m,
            "invite_members[].",
            &[("bitrate", Int), ("protocol", Int)],
        )?;
    }
    if !params["chairman"].is_null() {
        require(&params["chairman"], "chairman.", &member)?;
    }
    let name = string(&params["name"]);
    if name.is_empty() || name.len() > 64 {
        return Err(bad("name must be 1 to 64 bytes"));
    }
    if name.chars().any(|c| FORBIDDEN.contains(c)) {
        return Err(bad("name holds a forbidden character"));
    }
    let ends = [name.chars().next(), name.chars().next_back()];
    if ends.into_iter().flatten().any(|c| NOT_AT_ENDS.contains(c)) {
        return Err(bad("name begins or ends with _ - . @"));
    }
    if st.confs.values().any(|c| c.name == name) {
        return Err(api(20105, "conference name exists"));
    }
    Ok(())
}

/// POST /api/v1/mc/confs.
pub(super) fn create_conf(sh: &Arc<Shared>, st: &mut State, params: &Value) -> Result<Value, Fail> {
    let now = roomsd::backend::health::unix_now();
    let template = string(&params["template_id"]);
    let mut conf = match params["create_type"].as_u64().unwrap_or(1) {
        1 => {
            check_instant(st, params)?;
            let mut conf_id = String::new();
            while conf_id.is_empty() || st.confs.contains_key(&conf_id) {
                conf_id = (5_000_000 + st.next()).to_string();
            }
            let duration = params["duration"].as_i64().unwrap_or(0);
            Conf {
                conf_id,
                name: string(&params["name"]),
                end_time: if duration == 0 {
                    String::new()
                } else {
                    iso(now + duration * 60)
                },
                need_password: !string(&params["password"]).is_empty(),
                auto_end: params["auto_end"] == 1,
                ..Conf::default()
            }
        }
        4 => {
            let v = st.vmrs.iter().find(|v| v.id == template);
            let v = v.ok_or_else(|| api(12103, "virtual meeting room not found"))?;
            let (conf_id, name) = (v.e164.clone(), v.name.clone());
            match st.confs.remove(&conf_id) {
                Some(live) => live,
                None => Conf {
                    conf_id,
                    name,
                    end_time: iso(now + 240 * 60),
                    vmr: Some(template),
                    ..Conf::default()
                },
            }
        }
        5 => {
            let at = st.booked.iter().position(|b| b.meeting_id() == template);
            let b = st
                .booked
                .remove(at.ok_or_else(|| api(12103, "booked meeting not found"))?);
            Conf {
                conf_id: b.conf_id.clone(),
                meeting_id: b.meeting_id(),
                name: b.name,
                end_time: b.end_time,
                need_password: !b.password.is_empty(),
                ..Conf::default()
            }
        }
        other => return Err(bad(&format!("create_type {other} is not documented"))),
    };
    if conf.meeting_id.is_empty() {
        conf.meeting_id = format!("meeting-{}", st.next());
    }
    if conf.start_time.is_empty() {
        conf.start_time = iso(now);
        let chairman = &params["chairman"];
        let or_user = |v: &Value| Some(string(v)).filter(|s| !s.is_empty());
        conf.creator = Person {
            name: or_user(&chairman["name"]).unwrap_or(USERNAME.into()),
            account: or_user(&chairman["account"]).unwrap_or(USERNAME.into()),
            account_type: chairman["account_type"].as_u64().unwrap_or(1),
        };
    }
    let mut ids = Vec::new();
    for m in list(params, "invite_members")? {
        let account = string(&m["account"]);
        if account.is_empty() {
            return Err(bad("invite_members[].account missing"));
        }
        let account_type = m["account_type"].as_u64().unwrap_or(5);
        ids.push(conf.add_mt(&account, account_type, &string(&m["name"])));
    }
    let creator = conf.creator.account.clone();
    if let Some(mt) = conf.mts.iter().find(|m| m.account == creator) {
        conf.chairman = mt.mt_id.clone();
    }
    let (conf_id, meeting_id) = (conf.conf_id.clone(), conf.meeting_id.clone());
    st.confs.insert(conf_id.clone(), conf);
    if params["create_type"] == 1 && params["call_mode"] == 2 {
        dial(sh, st, &conf_id, &ids);
    }
    Ok(json!({"conf_id": conf_id, "meeting_id": meeting_id}))
}

/// Calls terminals: they come online now or after the dial delay, unless they do not answer
/// (then they are called until hung up). Hanging up first ends the call.
pub(super) fn dial(sh: &Arc<Shared>, st: &mut State, conf_id: &str, mt_ids: &[String]) {
    let delay = st.dial_delay;
    let no_answer = st.no_answer.clone();
    let Some(conf) = st.confs.get_mut(conf_id) else {
        return;
    };
    let called = conf.mts.iter_mut().filter(|m| mt_ids.contains(&m.mt_id));
    called.for_each(|m| m.calling = !m.online);
    let answering: Vec<String> = conf
        .mts
        .iter()
        .filter(|m| mt_ids.contains(&m.mt_id) && !no_answer.contains(&m.account))
        .map(|m| m.mt_id.clone())
        .collect();
    let answer = move |conf: &mut Conf| {
        let calls = conf.mts.iter_mut().filter(|m| answering.contains(&m.mt_id));
        calls.filter(|m| m.calling).for_each(|m| {
            (m.online, m.calling) = (true, false);
        });
    };
    if delay.is_zero() {
        return answer(conf);
    }
    let (sh, conf_id) = (sh.clone(), conf_id.to_string());
    tokio::spawn(async move {
        tokio::time::sleep(delay).await;
        if let Some(conf) = sh.state.lock().unwrap().confs.get_mut(&conf_id) {
            answer(conf);
        }
    });
}
