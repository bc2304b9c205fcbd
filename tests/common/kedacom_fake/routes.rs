//! The fake platform's HTTP side: the accept loop, the conventions every request is checked
//! against, and one handler per endpoint.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State as Axum;
use axum::http::{HeaderMap, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};
use tokio::net::TcpListener;
use tokio::sync::oneshot;

use super::{
    BAD_REQUEST, Booked, CONSUMER_KEY, CONSUMER_SECRET, Conf, Fault, Mt, PASSWORD, Person,
    Recorded, Server, Shared, State, USERNAME, Vmr, iso, parse_iso,
};

pub(super) fn serve(shared: Arc<Shared>, listener: TcpListener) -> Server {
    let app = Router::new().fallback(handle).with_state(shared);
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        let _ = axum::serve(listener, app)
            .with_graceful_shutdown(async move {
                let _ = stopped.await;
            })
            .await;
    });
    Server { stop, task }
}

pub(super) enum Fail {
    Api(u32, String),
    NotFound,
}

pub(super) fn api(code: u32, description: &str) -> Fail {
    Fail::Api(code, description.into())
}

fn bad(description: &str) -> Fail {
    Fail::Api(BAD_REQUEST, description.into())
}

type Reply = Result<Value, Fail>;

async fn handle(
    Axum(sh): Axum<Arc<Shared>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if sh.down.load(Ordering::SeqCst) {
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            [(header::CONNECTION, "close")],
            "down",
        )
            .into_response();
    }
    loop {
        let fault = sh.state.lock().unwrap().fault;
        match fault {
            Some(Fault::Hang) => tokio::time::sleep(std::time::Duration::from_millis(10)).await,
            Some(Fault::Http500) => {
                return (StatusCode::INTERNAL_SERVER_ERROR, "Internal Server Error")
                    .into_response();
            }
            Some(Fault::Garbage) => return (StatusCode::OK, "<html>{\"success\":").into_response(),
            None => break,
        }
    }
    let text = |name| {
        headers
            .get_all(name)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .collect::<Vec<_>>()
            .join("; ")
    };
    let is_form = text(header::CONTENT_TYPE).starts_with("application/x-www-form-urlencoded");
    let query = uri.query().unwrap_or("").to_string();
    let form = if method == Method::GET {
        form_urlencoded::parse(query.as_bytes())
            .into_owned()
            .collect()
    } else if is_form {
        form_urlencoded::parse(&body).into_owned().collect()
    } else {
        HashMap::new()
    };
    let record = Recorded {
        method: method.to_string(),
        path: uri.path().into(),
        query,
        form: form.clone(),
        cookie: text(header::COOKIE),
        api_level: text(header::HeaderName::from_static("api-level")),
    };
    let mut st = sh.state.lock().unwrap();
    st.requests.push(record.clone());
    let mut set_cookie = None;
    let reply = if method != Method::GET && !is_form {
        Err(bad("the body must be application/x-www-form-urlencoded"))
    } else {
        let effective = match form.get("_method") {
            Some(m) if method == Method::POST => m.to_uppercase(),
            _ => method.to_string(),
        };
        let path = uri.path().strip_prefix("/api/v1/").unwrap_or("");
        let segs: Vec<&str> = path.split('/').collect();
        route(
            &sh,
            &mut st,
            &effective,
            &segs,
            &form,
            &record.cookie,
            &mut set_cookie,
        )
    };
    drop(st);
    let (status, body) = match reply {
        Ok(Value::Object(fields)) => {
            let mut body = Map::new();
            body.insert("success".into(), json!(1));
            body.extend(fields);
            (StatusCode::OK, Value::Object(body))
        }
        Ok(other) => panic!("reply is not an object: {other}"),
        Err(Fail::Api(code, description)) => (
            StatusCode::OK,
            json!({"success": 0, "error_code": code, "description": description}),
        ),
        Err(Fail::NotFound) => (
            StatusCode::NOT_FOUND,
            json!({"success": 0, "error_code": 404, "description": "no such endpoint"}),
        ),
    };
    let mut response = (status, axum::Json(body)).into_response();
    if let Some(cookie) = set_cookie {
        let value = format!("SSO_COOKIE_KEY={cookie}; Path=/").parse().unwrap();
        response.headers_mut().insert(header::SET_COOKIE, value);
    }
    response
}

fn route(
    sh: &Arc<Shared>,
    st: &mut State,
    method: &str,
    segs: &[&str],
    p: &HashMap<String, String>,
    cookie: &str,
    set_cookie: &mut Option<String>,
) -> Reply {
    let get = |k: &str| p.get(k).map(String::as_str).unwrap_or("");
    match (method, segs) {
        ("POST", ["system", "token"]) => {
            if get("oauth_consumer_key") != CONSUMER_KEY
                || get("oauth_consumer_secret") != CONSUMER_SECRET
            {
                return Err(api(10001, "license/consumer check failed"));
            }
            let token = format!("tok-{}", st.next());
            st.tokens.insert(token.clone());
            st.tokens_fetched += 1;
            return Ok(json!({"account_token": token}));
        }
        ("POST", ["system", "login"]) => {
            if !st.tokens.contains(get("account_token")) {
                return Err(api(10002, "token rejected"));
            }
            if get("username") != USERNAME || get("password") != PASSWORD {
                return Err(api(10101, "wrong password"));
            }
            let sso = format!("sso-{}", st.next());
            st.sessions.insert(sso.clone(), get("account_token").into());
            st.logins += 1;
            *set_cookie = Some(sso);
            return Ok(json!({"username": USERNAME}));
        }
        ("POST", ["system", "token", token, "heartbeat"]) => {
            if !st.tokens.contains(*token) {
                return Err(api(10002, "token rejected"));
            }
            st.heartbeats += 1;
            return Ok(json!({}));
        }
        _ => {}
    }
    let token = get("account_token");
    if !st.tokens.contains(token) {
        return Err(api(10002, "token rejected"));
    }
    let sso = cookie
        .split(';')
        .filter_map(|c| c.trim().strip_prefix("SSO_COOKIE_KEY="))
        .next_back();
    if sso.and_then(|c| st.sessions.get(c)).map(String::as_str) != Some(token) {
        return Err(api(10102, "not logged in"));
    }
    match (method, segs) {
        ("POST", ["system", "heartbeat"]) => {
            st.heartbeats += 1;
            Ok(json!({}))
        }
        ("GET", ["mc", "booked_confs"]) => {
            let all: Vec<Value> = st.booked.iter().map(booked_json).collect();
            Ok(json!({"total": all.len(), "booked_confs": page(all, p)}))
        }
        ("GET", ["mc", "virtual_meeting_rooms"]) => {
            let all: Vec<Value> = st.vmrs.iter().map(|v| vmr_json(st, v)).collect();
            Ok(json!({"total": all.len(), "virtual_meeting_rooms": page(all, p)}))
        }
        ("POST", ["mc", "confs"]) => create_conf(sh, st, &params(p)?),
        ("DELETE", ["mc", "confs", id]) => {
            st.confs
                .remove(*id)
                .ok_or_else(|| api(12103, "conference not found"))?;
            Ok(json!({}))
        }
        ("GET", ["vc", "confs"]) => {
            let all: Vec<Value> = st.confs.values().map(Conf::json).collect();
            Ok(json!({"total": all.len(), "confs": page(all, p)}))
        }
        ("GET", ["vc", "confs", id]) => Ok(st.conf(id)?.json()),
        ("GET", ["vc", "confs", id, "mts"]) => {
            let mts: Vec<Value> = st.conf(id)?.mts.iter().map(mt_json).collect();
            Ok(json!({"mts": mts}))
        }
        ("POST", ["vc", "confs", id, "mts"]) => {
            let params = params(p)?;
            let conf = st.conf(id)?;
            let mut added = Vec::new();
            for m in list(&params, "mts")? {
                let (account, account_type) = (
                    string(&m["account"]),
                    m["account_type"].as_u64().unwrap_or(5),
                );
                if account.is_empty() {
                    return Err(bad("mts[].account missing"));
                }
                let mt_id = conf.add_mt(&account, account_type, "");
                added.push(
                    json!({"account": account, "account_type": account_type, "mt_id": mt_id}),
                );
            }
            Ok(json!({"mts": added}))
        }
        ("DELETE", ["vc", "confs", id, "mts"]) => {
            let ids = mt_ids(&params(p)?, st.conf(id)?)?;
            st.conf(id)?.mts.retain(|m| !ids.contains(&m.mt_id));
            Ok(json!({}))
        }
        ("POST", ["vc", "confs", id, "online_mts"]) => {
            let ids = mt_ids(&params(p)?, st.conf(id)?)?;
            dial(sh, st, id, &ids);
            st.fault = st.fault_after_dial.take().or(st.fault);
            Ok(json!({}))
        }
        ("DELETE", ["vc", "confs", id, "online_mts"]) => {
            let conf = st.conf(id)?;
            for mt_id in mt_ids(&params(p)?, conf)? {
                let mt = conf.mt(&mt_id)?;
                (mt.online, mt.calling) = (false, false);
            }
            Ok(json!({}))
        }
        ("PUT", ["vc", "confs", id, "mts", mt_id, "mute"]) => {
            let value = value01(&params(p)?)?;
            st.conf(id)?.mt(mt_id)?.mute = value;
            Ok(json!({}))
        }
        ("PUT", ["vc", "confs", id, "mute"]) => {
            let value = value01(&params(p)?)?;
            st.conf(id)?.mts.iter_mut().for_each(|m| m.mute = value);
            Ok(json!({}))
        }
        ("GET", ["vc", "confs", id, "chairman"]) => Ok(json!({"mt_id": st.conf(id)?.chairman})),
        ("PUT", ["vc", "confs", id, "chairman"]) => {
            let mt_id = string(&params(p)?["mt_id"]);
            let conf = st.conf(id)?;
            conf.mt(&mt_id)?;
            conf.chairman = mt_id;
            Ok(json!({}))
        }
        _ => Err(Fail::NotFound),
    }
}

/// POST /api/v1/mc/confs: create_type 1 (instant) or 4 (virtual meeting room `template_id`).
/// A virtual meeting room already in use gives its live conference (the fake is lenient).
fn create_conf(sh: &Arc<Shared>, st: &mut State, params: &Value) -> Reply {
    let (conf_id, name, vmr) = match params["create_type"].as_u64().unwrap_or(1) {
        1 => {
            let name = string(&params["name"]);
            if name.is_empty() {
                return Err(bad("name missing"));
            }
            let mut conf_id = String::new();
            while conf_id.is_empty() || st.confs.contains_key(&conf_id) {
                conf_id = (5_000_000 + st.next()).to_string();
            }
            (conf_id, name, None)
        }
        4 => {
            let id = string(&params["template_id"]);
            let v = st
                .vmrs
                .iter()
                .find(|v| v.id == id)
                .ok_or_else(|| api(12103, "virtual meeting room not found"))?;
            (v.e164.clone(), v.name.clone(), Some(id))
        }
        other => {
            return Err(bad(&format!(
                "create_type {other} is not supported by the fake"
            )));
        }
    };
    let chairman = &params["chairman"];
    let or_user = |v: &Value| {
        Some(string(v))
            .filter(|s| !s.is_empty())
            .unwrap_or(USERNAME.into())
    };
    let creator = Person {
        name: or_user(&chairman["name"]),
        account: or_user(&chairman["account"]),
        account_type: chairman["account_type"].as_u64().unwrap_or(1),
    };
    if !st.confs.contains_key(&conf_id) {
        let now = roomsd::backend::health::unix_now();
        let duration = params["duration"].as_i64().unwrap_or(240);
        let end_time = if duration == 0 {
            String::new()
        } else {
            iso(now + duration * 60)
        };
        let meeting_id = format!("meeting-{}", st.next());
        let conf = Conf {
            conf_id: conf_id.clone(),
            meeting_id,
            name,
            start_time: iso(now),
            end_time,
            need_password: !string(&params["password"]).is_empty(),
            creator: creator.clone(),
            vmr,
            ..Conf::default()
        };
        st.confs.insert(conf_id.clone(), conf);
    }
    let conf = st.conf(&conf_id)?;
    let mut ids = Vec::new();
    for m in list(params, "invite_members")? {
        let account = string(&m["account"]);
        if account.is_empty() {
            return Err(bad("invite_members[].account missing"));
        }
        ids.push(conf.add_mt(
            &account,
            m["account_type"].as_u64().unwrap_or(5),
            &string(&m["name"]),
        ));
    }
    if let Some(mt) = conf.mts.iter().find(|m| m.account == creator.account) {
        conf.chairman = mt.mt_id.clone();
    }
    let meeting_id = conf.meeting_id.clone();
    dial(sh, st, &conf_id, &ids);
    Ok(json!({"conf_id": conf_id, "meeting_id": meeting_id}))
}

/// Calls terminals: they come online now or after the dial delay, unless they do not answer
/// (then they are called until hung up). Hanging up first ends the call.
fn dial(sh: &Arc<Shared>, st: &mut State, conf_id: &str, mt_ids: &[String]) {
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

fn booked_json(b: &Booked) -> Value {
    let minutes = match (parse_iso(&b.start_time), parse_iso(&b.end_time)) {
        (Some(s), Some(e)) => (e - s) / 60,
        _ => 0,
    };
    json!({"name": b.name, "conf_id": b.conf_id, "meeting_id": format!("booked-{}", b.conf_id),
        "conf_type": 0, "start_time": b.start_time, "end_time": b.end_time, "duration": minutes,
        "bitrate": 2048, "password": "",
        "creator": {"name": "Host", "account": "host", "account_type": 1}})
}

fn vmr_json(st: &State, v: &Vmr) -> Value {
    let in_use = st
        .confs
        .values()
        .find(|c| c.vmr.as_deref() == Some(v.id.as_str()));
    json!({"id": v.id, "name": v.name, "e164": v.e164, "exclusive": 1,
        "exclusive_users": [v.exclusive.json()], "status": u8::from(in_use.is_some()),
        "conf_name": in_use.map(|c| c.name.as_str()).unwrap_or("")})
}

fn mt_json(m: &Mt) -> Value {
    let e164 = if m.account_type == 5 {
        m.account.as_str()
    } else {
        ""
    };
    json!({"mt_id": m.mt_id, "alias": m.alias, "e164": e164, "account": m.account,
        "account_type": m.account_type, "online": u8::from(m.online), "mute": u8::from(m.mute),
        "silence": 0})
}

/// `start` (0-based) and `count` (default 10, 0 = all) of a list.
fn page(all: Vec<Value>, p: &HashMap<String, String>) -> Vec<Value> {
    let start = p.get("start").and_then(|s| s.parse().ok()).unwrap_or(0);
    let count = p.get("count").and_then(|s| s.parse().ok()).unwrap_or(10);
    let count = if count == 0 { usize::MAX } else { count };
    all.into_iter().skip(start).take(count).collect()
}

fn params(p: &HashMap<String, String>) -> Result<Value, Fail> {
    let raw = p.get("params").ok_or_else(|| bad("params missing"))?;
    serde_json::from_str(raw).map_err(|e| bad(&format!("params is not JSON: {e}")))
}

fn list(v: &Value, key: &str) -> Result<Vec<Value>, Fail> {
    match &v[key] {
        Value::Null => Ok(Vec::new()),
        Value::Array(items) => Ok(items.clone()),
        _ => Err(bad(&format!("{key} must be an array"))),
    }
}

/// The `mts[].mt_id` of `params`, each a terminal of `conf` (else 12104).
fn mt_ids(params: &Value, conf: &mut Conf) -> Result<Vec<String>, Fail> {
    let ids: Vec<String> = list(params, "mts")?
        .iter()
        .map(|m| string(&m["mt_id"]))
        .collect();
    for id in &ids {
        conf.mt(id)?;
    }
    Ok(ids)
}

fn value01(params: &Value) -> Result<bool, Fail> {
    match params["value"].as_u64() {
        Some(v @ (0 | 1)) => Ok(v == 1),
        _ => Err(bad("value must be 0 or 1")),
    }
}

/// A string or number field as a string ("" otherwise).
fn string(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        _ => String::new(),
    }
}
