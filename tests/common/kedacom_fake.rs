//! A stateful fake of the Kedacom video platform's HTTP API (BACKENDS.md, "Kedacom video
//! platform"; seed 004), for tests that drive a real daemon with `[backend] kind = "kedacom"`.
//!
//! It enforces the platform's conventions: GET parameters (the `account_token` included) in the
//! query string; POST/PUT/DELETE parameters in an `application/x-www-form-urlencoded` body with
//! `account_token` and, when there is data, `params=<JSON>` (a POST with `_method=DELETE` counts
//! as a DELETE). Every reply is HTTP 200 JSON `{"success":1,...}` or
//! `{"success":0,"error_code":N,"description":"..."}`. Every endpoint but the token fetch, the
//! login and the token heartbeat wants a known token (else 10002) and the `SSO_COOKIE_KEY`
//! cookie of a login made with that token (else 10102). Broken conventions (a non-form body,
//! `params` that is not JSON, a missing field) answer the fake's own code 90000; unknown
//! paths answer HTTP 404.
//!
//! Conferences: `add_conference` makes a live one with two other terminals online (mt 1, the
//! chairman, account `0512001`; mt 2, account `0512002`) and fixed times (Unix 1_700_000_000 to
//! 1_700_003_600, as in `common::meeting`). Dialled terminals come online at once, or after
//! `set_dial_delay`; an account marked with `set_answers(account, false)` never does.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State as Axum;
use axum::http::{HeaderMap, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use percent_encoding::percent_decode_str;
use serde_json::{Map, Value, json};
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub const CONSUMER_KEY: &str = "key";
pub const CONSUMER_SECRET: &str = "secret";
pub const USERNAME: &str = "room101";
pub const PASSWORD: &str = "pw";
/// The fake's own code for requests that break the platform's conventions.
pub const BAD_REQUEST: u32 = 90000;

/// One request as the fake received it.
#[derive(Debug, Clone, Default)]
pub struct Recorded {
    /// The HTTP method as sent (a POST with `_method=DELETE` stays "POST").
    pub method: String,
    pub path: String,
    /// The raw query string ("" when none).
    pub query: String,
    /// The parameters the fake read: the query's for GET, the form body's otherwise (empty when
    /// the body is not a form).
    pub form: HashMap<String, String>,
    /// The `Cookie` header ("" when none).
    pub cookie: String,
    /// The `API-Level` header ("" when none).
    pub api_level: String,
}

impl Recorded {
    /// The `params` field as JSON (`Null` when absent or not JSON).
    pub fn params(&self) -> Value {
        self.form
            .get("params")
            .and_then(|p| serde_json::from_str(p).ok())
            .unwrap_or(Value::Null)
    }
}

#[derive(Clone, Default)]
struct Person {
    name: String,
    account: String,
    account_type: u64,
}

impl Person {
    fn json(&self) -> Value {
        json!({"name": self.name, "account": self.account, "account_type": self.account_type})
    }
}

#[derive(Default)]
struct Mt {
    mt_id: String,
    alias: String,
    account: String,
    account_type: u64,
    online: bool,
    mute: bool,
}

#[derive(Default)]
struct Conf {
    conf_id: String,
    meeting_id: String,
    name: String,
    start_time: String,
    end_time: String,
    need_password: bool,
    creator: Person,
    /// The chairman's mt_id ("" when none).
    chairman: String,
    mts: Vec<Mt>,
    next_mt: u32,
    /// The virtual meeting room it was started from.
    vmr: Option<String>,
}

impl Conf {
    /// The terminal with `account`, added offline if new; its mt_id.
    fn add_mt(&mut self, account: &str, account_type: u64, alias: &str) -> String {
        if let Some(mt) = self.mts.iter().find(|m| m.account == account) {
            return mt.mt_id.clone();
        }
        self.next_mt += 1;
        let mt_id = self.next_mt.to_string();
        let alias = if alias.is_empty() { account } else { alias };
        let (alias, account) = (alias.into(), account.into());
        self.mts.push(Mt {
            mt_id: mt_id.clone(),
            alias,
            account,
            account_type,
            ..Mt::default()
        });
        mt_id
    }

    fn mt(&mut self, mt_id: &str) -> Result<&mut Mt, Fail> {
        self.mts
            .iter_mut()
            .find(|m| m.mt_id == mt_id)
            .ok_or_else(|| api(12104, "terminal not found"))
    }

    fn json(&self) -> Value {
        json!({"name": self.name, "conf_id": self.conf_id, "meeting_id": self.meeting_id,
            "start_time": self.start_time, "end_time": self.end_time,
            "need_password": u8::from(self.need_password), "creator": self.creator.json()})
    }
}

struct Booked {
    conf_id: String,
    name: String,
    start_time: String,
    end_time: String,
}

struct Vmr {
    id: String,
    e164: String,
    name: String,
    exclusive: Person,
}

#[derive(Default)]
struct State {
    next: u64,
    tokens: HashSet<String>,
    /// SSO cookie → the token it logged in with.
    sessions: HashMap<String, String>,
    logins: usize,
    tokens_fetched: usize,
    heartbeats: usize,
    confs: BTreeMap<String, Conf>,
    booked: Vec<Booked>,
    vmrs: Vec<Vmr>,
    requests: Vec<Recorded>,
    dial_delay: Duration,
    no_answer: HashSet<String>,
}

impl State {
    fn next(&mut self) -> u64 {
        self.next += 1;
        self.next
    }

    fn conf(&mut self, conf_id: &str) -> Result<&mut Conf, Fail> {
        self.confs
            .get_mut(conf_id)
            .ok_or_else(|| api(12103, "conference not found"))
    }
}

struct Shared {
    state: Mutex<State>,
    down: AtomicBool,
}

struct Server {
    stop: oneshot::Sender<()>,
    task: JoinHandle<()>,
}

/// The fake platform. Dropping it stops serving.
pub struct FakeKedacom {
    shared: Arc<Shared>,
    addr: SocketAddr,
    server: Mutex<Option<Server>>,
}

impl FakeKedacom {
    /// Binds 127.0.0.1:0 and serves. Credentials: consumer key "key", secret "secret", user
    /// "room101", password "pw".
    pub async fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let shared = Arc::new(Shared {
            state: Mutex::default(),
            down: AtomicBool::new(false),
        });
        let server = serve(shared.clone(), listener);
        Self {
            shared,
            addr,
            server: Mutex::new(Some(server)),
        }
    }

    /// "http://127.0.0.1:PORT"
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.shared.state.lock().unwrap()
    }

    /// A live conference others are already in (two other terminals online, mt 1 chairman).
    pub fn add_conference(&self, conf_id: &str, name: &str, need_password: bool) {
        let mut st = self.state();
        let meeting_id = format!("meeting-{}", st.next());
        let mut conf = Conf {
            conf_id: conf_id.into(),
            meeting_id,
            name: name.into(),
            start_time: iso(1_700_000_000),
            end_time: iso(1_700_003_600),
            need_password,
            creator: Person {
                name: "Host".into(),
                account: "host".into(),
                account_type: 1,
            },
            chairman: "1".into(),
            ..Conf::default()
        };
        for (account, alias) in [("0512001", "Host room"), ("0512002", "Guest room")] {
            conf.add_mt(account, 5, alias);
        }
        conf.mts.iter_mut().for_each(|m| m.online = true);
        st.confs.insert(conf_id.into(), conf);
    }

    pub fn add_booked(&self, conf_id: &str, name: &str, start_time: &str, end_time: &str) {
        let (conf_id, name) = (conf_id.into(), name.into());
        let (start_time, end_time) = (start_time.into(), end_time.into());
        self.state().booked.push(Booked {
            conf_id,
            name,
            start_time,
            end_time,
        });
    }

    /// A virtual meeting room reserved for `exclusive_account` (E164, or IP when it has a dot).
    pub fn add_virtual_room(&self, id: &str, e164: &str, name: &str, exclusive_account: &str) {
        let account_type = if exclusive_account.contains('.') {
            7
        } else {
            5
        };
        let exclusive = Person {
            name: exclusive_account.into(),
            account: exclusive_account.into(),
            account_type,
        };
        self.state().vmrs.push(Vmr {
            id: id.into(),
            e164: e164.into(),
            name: name.into(),
            exclusive,
        });
    }

    /// The host ends it from elsewhere: the conference disappears.
    pub fn end_conference(&self, conf_id: &str) {
        self.state().confs.remove(conf_id);
    }

    /// Every token and login is forgotten, as after 30 minutes unused.
    pub fn expire_sessions(&self) {
        let mut st = self.state();
        st.tokens.clear();
        st.sessions.clear();
    }

    /// Every login is forgotten, the tokens stay valid (requests answer 10102).
    pub fn expire_logins(&self) {
        self.state().sessions.clear();
    }

    /// Stops serving: the listener is closed (connections are refused) and open keep-alive
    /// connections are closed.
    pub async fn go_down(&self) {
        self.shared.down.store(true, Ordering::SeqCst);
        let server = self.server.lock().unwrap().take();
        if let Some(Server { stop, mut task }) = server {
            let _ = stop.send(());
            // Graceful shutdown closes idle connections at once and waits for the others; the
            // handlers never block, so this is quick. Should it not be, abort (which drops the
            // listener) and let `down` close what remains.
            if tokio::time::timeout(Duration::from_secs(2), &mut task)
                .await
                .is_err()
            {
                task.abort();
                let _ = task.await;
            }
            // Let clients notice their pooled connections closed, so the next request fails
            // to connect rather than on a connection closing under it.
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Serves again on the same port, with the same state.
    pub async fn come_back(&self) {
        if self.server.lock().unwrap().is_some() {
            return;
        }
        let mut tries = 0;
        let listener = loop {
            match TcpListener::bind(self.addr).await {
                Ok(listener) => break listener,
                Err(_) if tries < 100 => {
                    tries += 1;
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
                Err(e) => panic!("cannot bind {} again: {e}", self.addr),
            }
        };
        self.shared.down.store(false, Ordering::SeqCst);
        *self.server.lock().unwrap() = Some(serve(self.shared.clone(), listener));
    }

    /// Whether `account` is an online terminal of `conf_id`.
    pub fn online(&self, conf_id: &str, account: &str) -> bool {
        self.with_mt(conf_id, account, |m| m.online)
            .unwrap_or(false)
    }

    /// Whether `account` is a terminal of `conf_id`, online or not.
    pub fn member(&self, conf_id: &str, account: &str) -> bool {
        self.with_mt(conf_id, account, |_| ()).is_some()
    }

    /// Whether the terminal `account` of `conf_id` is muted (`None`: no such terminal).
    pub fn muted(&self, conf_id: &str, account: &str) -> Option<bool> {
        self.with_mt(conf_id, account, |m| m.mute)
    }

    /// The chairman's account.
    pub fn chairman(&self, conf_id: &str) -> Option<String> {
        let st = self.state();
        let conf = st.confs.get(conf_id)?;
        conf.mts
            .iter()
            .find(|m| m.mt_id == conf.chairman)
            .map(|m| m.account.clone())
    }

    /// The terminal is hung up from the platform (it stays in the conference, offline).
    pub fn hang_up(&self, conf_id: &str, account: &str) {
        self.with_mt(conf_id, account, |m| m.online = false);
    }

    /// The terminal is removed from the conference from elsewhere.
    pub fn kick(&self, conf_id: &str, account: &str) {
        if let Some(conf) = self.state().confs.get_mut(conf_id) {
            conf.mts.retain(|m| m.account != account);
        }
    }

    /// How long a dialled terminal takes to come online (default: at once).
    pub fn set_dial_delay(&self, delay: Duration) {
        self.state().dial_delay = delay;
    }

    /// Whether the terminal `account` answers calls (default: it does).
    pub fn set_answers(&self, account: &str, answers: bool) {
        let mut st = self.state();
        if answers {
            st.no_answer.remove(account);
        } else {
            st.no_answer.insert(account.into());
        }
    }

    fn with_mt<T>(&self, conf_id: &str, account: &str, f: impl FnOnce(&mut Mt) -> T) -> Option<T> {
        let mut st = self.state();
        st.confs
            .get_mut(conf_id)?
            .mts
            .iter_mut()
            .find(|m| m.account == account)
            .map(f)
    }

    pub fn conference_exists(&self, conf_id: &str) -> bool {
        self.state().confs.contains_key(conf_id)
    }

    /// The conf_ids of the live conferences.
    pub fn conferences(&self) -> Vec<String> {
        self.state().confs.keys().cloned().collect()
    }

    /// Number of successful logins so far.
    pub fn logins(&self) -> usize {
        self.state().logins
    }

    /// Number of successful token fetches so far.
    pub fn tokens(&self) -> usize {
        self.state().tokens_fetched
    }

    /// Number of accepted heartbeats (token and user) so far.
    pub fn heartbeats(&self) -> usize {
        self.state().heartbeats
    }

    /// Every request so far, in order.
    pub fn requests(&self) -> Vec<Recorded> {
        self.state().requests.clone()
    }

    /// The requests whose (effective) method and path match, e.g. ("POST", "/api/v1/mc/confs").
    pub fn requests_to(&self, method: &str, path: &str) -> Vec<Recorded> {
        let effective = |r: &Recorded| match r.form.get("_method") {
            Some(m) if r.method == "POST" => m.clone(),
            _ => r.method.clone(),
        };
        self.requests()
            .into_iter()
            .filter(|r| effective(r) == method && r.path == path)
            .collect()
    }
}

impl Drop for FakeKedacom {
    fn drop(&mut self) {
        if let Some(server) = self.server.lock().unwrap().take() {
            server.task.abort();
        }
    }
}

fn serve(shared: Arc<Shared>, listener: TcpListener) -> Server {
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

enum Fail {
    Api(u32, String),
    NotFound,
}

fn api(code: u32, description: &str) -> Fail {
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
        parse_form(&query)
    } else if is_form {
        parse_form(&String::from_utf8_lossy(&body))
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
            Ok(json!({}))
        }
        ("DELETE", ["vc", "confs", id, "online_mts"]) => {
            let conf = st.conf(id)?;
            for mt_id in mt_ids(&params(p)?, conf)? {
                conf.mt(&mt_id)?.online = false;
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
        let now = unix_now();
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

/// Calls terminals: they come online now or after the dial delay, unless they do not answer.
fn dial(sh: &Arc<Shared>, st: &mut State, conf_id: &str, mt_ids: &[String]) {
    let delay = st.dial_delay;
    let no_answer = st.no_answer.clone();
    let Some(conf) = st.confs.get_mut(conf_id) else {
        return;
    };
    let answering: Vec<String> = conf
        .mts
        .iter()
        .filter(|m| mt_ids.contains(&m.mt_id) && !no_answer.contains(&m.account))
        .map(|m| m.mt_id.clone())
        .collect();
    let answer = move |conf: &mut Conf| {
        let calls = conf.mts.iter_mut().filter(|m| answering.contains(&m.mt_id));
        calls.for_each(|m| m.online = true);
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

fn parse_form(s: &str) -> HashMap<String, String> {
    let decode = |x: &str| {
        percent_decode_str(&x.replace('+', " "))
            .decode_utf8_lossy()
            .into_owned()
    };
    s.split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (decode(k), decode(v))
        })
        .collect()
}

fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

/// Unix seconds as the platform writes times: `2023-11-15T06:13:20+08:00`.
pub fn iso(secs: i64) -> String {
    let time = jiff::Timestamp::from_second(secs).expect("a time in range");
    let beijing = jiff::tz::offset(8).to_datetime(time);
    beijing.strftime("%Y-%m-%dT%H:%M:%S+08:00").to_string()
}

/// The platform's time format → Unix seconds, read as the adapter reads it.
pub fn parse_iso(s: &str) -> Option<i64> {
    roomsd::backend::kedacom::model::unix_time(s)
}
