//! What the stateful fakes of Easemob, RSC and HiAR share: a real HTTP server (axum on
//! loopback) whose every request goes to one synchronous handler over the fake's state, a log
//! of the requests, and the service going away (HTTP 503 from its gateway, connection closed)
//! and coming back.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State as Axum;
use axum::http::{HeaderMap, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use serde_json::Value;
use tokio::net::TcpListener;
use tokio::sync::oneshot;

/// One request as the fake received it.
#[derive(Debug, Clone)]
pub struct Request {
    pub method: String,
    pub path: String,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl Request {
    /// A header's value ("" when absent).
    pub fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }

    /// The body as JSON, when it is JSON sent as `application/json`.
    pub fn json(&self) -> Option<Value> {
        if !self.header("content-type").starts_with("application/json") {
            return None;
        }
        serde_json::from_slice(&self.body).ok()
    }

    /// The bearer token of `Authorization` ("" when none).
    pub fn bearer(&self) -> &str {
        self.header("authorization")
            .strip_prefix("Bearer ")
            .unwrap_or("")
    }
}

/// What the handler answers.
pub struct Reply {
    pub status: u16,
    pub body: Value,
}

pub fn reply(status: u16, body: Value) -> Reply {
    Reply { status, body }
}

pub type Handler<S> = fn(&mut S, &Request) -> Reply;

struct Shared<S> {
    state: Mutex<S>,
    log: Mutex<Vec<Request>>,
    down: AtomicBool,
    handler: Handler<S>,
}

/// A fake service serving `S` through a handler. Dropping it stops serving.
pub struct FakeHttp<S> {
    shared: Arc<Shared<S>>,
    addr: SocketAddr,
    _stop: oneshot::Sender<()>,
}

impl<S: Send + 'static> FakeHttp<S> {
    pub async fn start(state: S, handler: Handler<S>) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let shared = Arc::new(Shared {
            state: Mutex::new(state),
            log: Mutex::default(),
            down: AtomicBool::new(false),
            handler,
        });
        let app = Router::new()
            .fallback(handle::<S>)
            .with_state(shared.clone());
        let (stop, stopped) = oneshot::channel::<()>();
        tokio::spawn(async move {
            let _ = axum::serve(listener, app)
                .with_graceful_shutdown(async move {
                    let _ = stopped.await;
                })
                .await;
        });
        Self {
            shared,
            addr,
            _stop: stop,
        }
    }

    /// "http://127.0.0.1:PORT"
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn state(&self) -> MutexGuard<'_, S> {
        self.shared.state.lock().unwrap()
    }

    /// The service goes away: its gateway answers 503 and closes the connection.
    pub fn go_down(&self) {
        self.shared.down.store(true, Ordering::SeqCst);
    }

    pub fn come_back(&self) {
        self.shared.down.store(false, Ordering::SeqCst);
    }

    /// Every request served (not those answered 503 while down).
    pub fn requests(&self) -> Vec<Request> {
        self.shared.log.lock().unwrap().clone()
    }

    /// The requests with `method` to `path`.
    pub fn requests_to(&self, method: &str, path: &str) -> Vec<Request> {
        self.requests()
            .into_iter()
            .filter(|r| r.method == method && r.path == path)
            .collect()
    }
}

async fn handle<S: Send + 'static>(
    Axum(shared): Axum<Arc<Shared<S>>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if shared.down.load(Ordering::SeqCst) {
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            [(header::CONNECTION, "close")],
            "down",
        )
            .into_response();
    }
    let request = Request {
        method: method.to_string(),
        path: uri.path().to_owned(),
        headers,
        body,
    };
    shared.log.lock().unwrap().push(request.clone());
    let Reply { status, body } = {
        let mut state = shared.state.lock().unwrap();
        (shared.handler)(&mut state, &request)
    };
    let status = StatusCode::from_u16(status).unwrap();
    if body.is_null() {
        return status.into_response();
    }
    (
        status,
        [(header::CONTENT_TYPE, "application/json")],
        body.to_string(),
    )
        .into_response()
}
