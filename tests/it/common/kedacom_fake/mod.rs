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
//! 1_700_003_600, as in `common::meeting`). Creating one (`create.rs`) checks every parameter
//! seed 004 marks required and the name rules, and refuses a name a live conference has
//! (20105). Only an automatic-call conference (`call_mode` 2) calls its invitees by itself; a
//! manual one (0, a virtual meeting room's and a booking's default) calls nobody until
//! `online_mts` is posted. A conference with `auto_end` ends when its last terminal leaves.
//! Dialled terminals come online at once, or after `set_dial_delay`; an account marked with
//! `set_answers(account, false)` never does. Until it answers, a dialled terminal is being
//! called; hanging up ends the call (`dialled` tells whether a terminal is online or being
//! called). Terminals are listed with their documented fields only (`mt_id`, `alias`, `e164`,
//! `ip`, `online`, `mute`, `silence`): the account a test names a terminal by shows as the
//! field its account type puts it in (5 and 6 `e164`, 7 `ip`, 8 `alias` and `ip`).
//!
//! Faults: `set_fault` makes every request answer HTTP 500, garbage, or nothing until cleared;
//! `fault_after_dial` arms one that starts once the next dial has been served.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

mod create;
mod routes;

use routes::{Fail, api, serve};

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
    e164: String,
    ip: String,
    /// The account it was invited or added with: how tests name it (not on the wire).
    account: String,
    online: bool,
    /// Dialled, not answered yet.
    calling: bool,
    mute: bool,
}

/// How the platform misbehaves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// HTTP 500 with a plain-text body.
    Http500,
    /// HTTP 200 with a body that is not JSON.
    Garbage,
    /// No answer at all until the fault is cleared, then the request is served.
    Hang,
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
    /// Ends when its last terminal leaves.
    auto_end: bool,
    /// Whether StartRecord's recorder runs.
    recording: bool,
}

impl Conf {
    /// The terminal with `account` (of `account_type`), added offline if new; its mt_id.
    fn add_mt(&mut self, account: &str, account_type: u64, alias: &str) -> String {
        if let Some(mt) = self.mts.iter().find(|m| m.account == account) {
            return mt.mt_id.clone();
        }
        self.next_mt += 1;
        let mt_id = self.next_mt.to_string();
        let alias = if alias.is_empty() { account } else { alias };
        let (mut alias, mut e164, mut ip) = (alias.to_string(), String::new(), String::new());
        match account_type {
            7 => ip = account.into(),
            8 => {
                let (a, i) = account.rsplit_once('@').unwrap_or((account, ""));
                (alias, ip) = (a.into(), i.into());
            }
            _ => e164 = account.into(),
        }
        self.mts.push(Mt {
            mt_id: mt_id.clone(),
            alias,
            e164,
            ip,
            account: account.into(),
            ..Mt::default()
        });
        mt_id
    }

    /// An `auto_end` conference without anyone in it or being called is over.
    fn is_over(&self) -> bool {
        self.auto_end && !self.mts.iter().any(|m| m.online || m.calling)
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
    password: String,
}

impl Booked {
    fn meeting_id(&self) -> String {
        format!("booked-{}", self.conf_id)
    }
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
    fault: Option<Fault>,
    fault_after_dial: Option<Fault>,
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

    /// Ends `conf_id` if it is over (`auto_end`, nobody left).
    fn sweep(&mut self, conf_id: &str) {
        if self.confs.get(conf_id).is_some_and(Conf::is_over) {
            self.confs.remove(conf_id);
        }
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
        self.add_booked_with_password(conf_id, name, start_time, end_time, "");
    }

    pub fn add_booked_with_password(
        &self,
        conf_id: &str,
        name: &str,
        start_time: &str,
        end_time: &str,
        password: &str,
    ) {
        let (conf_id, name) = (conf_id.into(), name.into());
        let (start_time, end_time) = (start_time.into(), end_time.into());
        self.state().booked.push(Booked {
            conf_id,
            name,
            start_time,
            end_time,
            password: password.into(),
        });
    }

    /// Whether `conf_id` is still a booking that has not begun.
    pub fn is_booked(&self, conf_id: &str) -> bool {
        self.state().booked.iter().any(|b| b.conf_id == conf_id)
    }

    /// The conf_id of the live conference called `name`.
    pub fn conference_named(&self, name: &str) -> Option<String> {
        let st = self.state();
        st.confs
            .values()
            .find(|c| c.name == name)
            .map(|c| c.conf_id.clone())
    }

    /// Whether StartRecord's recorder runs in `conf_id`.
    pub fn recording(&self, conf_id: &str) -> bool {
        self.state().confs.get(conf_id).is_some_and(|c| c.recording)
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
        self.with_mt(conf_id, account, |m| (m.online, m.calling) = (false, false));
        self.state().sweep(conf_id);
    }

    /// Whether `account` is online in `conf_id` or being called into it: what hanging up ends.
    pub fn dialled(&self, conf_id: &str, account: &str) -> bool {
        self.with_mt(conf_id, account, |m| m.online || m.calling)
            .unwrap_or(false)
    }

    /// The terminal `account` (E164) is online in `conf_id` already, as when the room's daemon
    /// restarts in a meeting or someone dialled it from the platform.
    pub fn put_online(&self, conf_id: &str, account: &str) {
        self.put_online_as(conf_id, account, 5);
    }

    /// `put_online` for an account of `account_type`.
    pub fn put_online_as(&self, conf_id: &str, account: &str, account_type: u64) {
        let mut st = self.state();
        let conf = st.confs.get_mut(conf_id).expect("a conference");
        let mt_id = conf.add_mt(account, account_type, "");
        conf.mt(&mt_id).ok().unwrap().online = true;
    }

    /// From now on every request meets `fault` (`None`: served again).
    pub fn set_fault(&self, fault: Option<Fault>) {
        let mut st = self.state();
        st.fault = fault;
        st.fault_after_dial = None;
    }

    /// `fault` starts once the next dial (POST `…/online_mts`) has been served.
    pub fn fault_after_dial(&self, fault: Fault) {
        self.state().fault_after_dial = Some(fault);
    }

    /// The terminal is removed from the conference from elsewhere.
    pub fn kick(&self, conf_id: &str, account: &str) {
        let mut st = self.state();
        if let Some(conf) = st.confs.get_mut(conf_id) {
            conf.mts.retain(|m| m.account != account);
        }
        st.sweep(conf_id);
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

/// Unix seconds as the platform writes times: `2023-11-15T06:13:20+08:00`.
pub fn iso(secs: i64) -> String {
    let time = jiff::Timestamp::from_second(secs).expect("a time in range");
    let beijing = jiff::tz::offset(8).to_datetime(time);
    beijing.strftime("%Y-%m-%dT%H:%M:%S+08:00").to_string()
}

/// The platform's time format → Unix seconds (a time without an offset in +08:00).
pub fn parse_iso(s: &str) -> Option<i64> {
    roomsd::backend::kedacom::model::unix_time(s, jiff::tz::Offset::constant(8))
}
