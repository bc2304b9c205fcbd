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

use super::create::{create_conf, dial};
use super::{
    BAD_REQUEST, Booked, CONSUMER_KEY, CONSUMER_SECRET, Conf, Fault, Mt, PASSWORD, Recorded,
    Server, Shared, State, USERNAME, Vmr, parse_iso,
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

pub(super) fn bad(description: &str) -> Fail {
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
        let decoded: Vec<String> = path
            .split('/')
            .map(|s| {
                percent_encoding::percent_decode_str(s)
                    .decode_utf8_lossy()
                    .into_owned()
            })
            .collect();
        let segs: Vec<&str> = decoded.iter().map(String::as_str).collect();
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
        ("GET", ["mc", "booked_confs", id]) => {
            let booked = st.booked.iter().find(|b| b.conf_id == *id);
            booked
                .map(booked_json)
                .ok_or_else(|| api(12103, "booked meeting not found"))
        }
        ("GET", ["mc", "meetings"]) => {
            let state = p.get("state").map(String::as_str).unwrap_or("");
            let mut all = Vec::new();
            if matches!(state, "" | "1") {
                all.extend(st.booked.iter().map(|b| meeting_json(&booked_json(b), 1)));
            }
            if matches!(state, "" | "2") {
                all.extend(st.confs.values().map(|c| meeting_json(&c.json(), 2)));
            }
            Ok(json!({"total": all.len(), "meetings": page(all, p)}))
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
            st.sweep(id);
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
            st.sweep(id);
            Ok(json!({}))
        }
        ("POST", ["vc", "confs", id, "recorders"]) => {
            let params = params(p)?;
            for key in ["publish_mode", "dual_stream", "anonymous"] {
                if !matches!(params[key].as_u64(), Some(0 | 1)) {
                    return Err(bad(&format!("{key} must be 0 or 1")));
                }
            }
            if !matches!(params["recorder_mode"].as_u64(), Some(1..=3)) {
                return Err(bad("recorder_mode must be 1, 2 or 3"));
            }
            let conf = st.conf(id)?;
            if conf.recording {
                return Err(api(20900, "already recording"));
            }
            conf.recording = true;
            Ok(json!({"rec_id": "1"}))
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

fn booked_json(b: &Booked) -> Value {
    let minutes = match (parse_iso(&b.start_time), parse_iso(&b.end_time)) {
        (Some(s), Some(e)) => (e - s) / 60,
        _ => 0,
    };
    json!({"name": b.name, "conf_id": b.conf_id, "meeting_id": b.meeting_id(),
        "conf_type": 0, "start_time": b.start_time, "end_time": b.end_time, "duration": minutes,
        "bitrate": 2048, "password": b.password,
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

/// A terminal with its documented fields only.
fn mt_json(m: &Mt) -> Value {
    json!({"mt_id": m.mt_id, "alias": m.alias, "e164": m.e164, "ip": m.ip,
        "online": u8::from(m.online), "mute": u8::from(m.mute), "silence": 0})
}

/// One of `GET /api/v1/mc/meetings`, from a booking's or a live conference's fields.
fn meeting_json(c: &Value, state: u8) -> Value {
    json!({"name": c["name"], "conf_id": c["conf_id"], "meeting_id": c["meeting_id"],
        "start_time": c["start_time"], "end_time": c["end_time"], "state": state, "video": 1,
        "creator": c["creator"]})
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

pub(super) fn list(v: &Value, key: &str) -> Result<Vec<Value>, Fail> {
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
pub(super) fn string(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        _ => String::new(),
    }
}
