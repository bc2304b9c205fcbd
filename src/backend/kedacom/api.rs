//! The Kedacom platform's HTTP conventions and its login session: every request carries the
//! `account_token` and the `SSO_COOKIE_KEY` cookie; writes are form-encoded with nested data in
//! one `params=<JSON>` field (DELETE included); `API-Level: 3` selects the reply version. A
//! request the platform refuses with 10002 (token rejected) or 10102 (not logged in) is retried
//! once after logging in again, so callers never see an expired session.

use std::time::Duration;

use reqwest::header::{COOKIE, SET_COOKIE};
use serde::Deserialize as _;
use serde::de::DeserializeOwned;
use serde_json::Value;

use super::KedacomConfig;
use super::model::{ERRORS, Envelope, NOT_LOGGED_IN, TOKEN_REJECTED};
use crate::backend::http;
use crate::backend::{BackendResult, HealthTracker};

const COOKIE_NAME: &str = "SSO_COOKIE_KEY";
const SERVICE: &str = "kedacom";

/// A logged-in session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Login {
    pub token: String,
    pub cookie: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verb {
    Get,
    Post,
    Put,
    Delete,
}

/// What the platform said: its data, or its own error.
enum Reply {
    Ok(Value),
    Refused { code: i64, description: String },
}

pub struct Api {
    http: reqwest::Client,
    base: String,
    config: KedacomConfig,
    login: tokio::sync::Mutex<Option<Login>>,
    health: HealthTracker,
}

impl Api {
    pub fn new(config: &KedacomConfig, timeout: Duration, health: HealthTracker) -> Self {
        Self {
            http: http::client(timeout),
            base: http::base(&config.base_url),
            config: config.clone(),
            login: tokio::sync::Mutex::new(None),
            health,
        }
    }

    pub fn health(&self) -> &HealthTracker {
        &self.health
    }

    /// GET `path` with `query` (and the token) in the query string.
    pub async fn get<T: DeserializeOwned>(
        &self,
        path: &str,
        query: &[(&str, &str)],
    ) -> BackendResult<T> {
        self.call(Verb::Get, path, query, None)
            .await
            .and_then(decode)
    }

    /// POST, PUT or DELETE `path` with `params` as the form's `params` field.
    pub async fn write<T: DeserializeOwned>(
        &self,
        verb: Verb,
        path: &str,
        params: Option<Value>,
    ) -> BackendResult<T> {
        self.call(verb, path, &[], params.as_ref())
            .await
            .and_then(decode)
    }

    /// One request of the session, logging in first if needed and again, once, if the platform
    /// has forgotten the session.
    async fn call(
        &self,
        verb: Verb,
        path: &str,
        query: &[(&str, &str)],
        params: Option<&Value>,
    ) -> BackendResult<Value> {
        let login = self.logged_in().await?;
        match self.send(verb, path, query, params, &login).await? {
            Reply::Refused { code, .. } if code == TOKEN_REJECTED || code == NOT_LOGGED_IN => {
                tracing::info!(code, "kedacom: session expired; logging in again");
                let login = self.relogin(&login, code).await?;
                accepted(self.send(verb, path, query, params, &login).await?)
            }
            reply => accepted(reply),
        }
    }

    /// The current session, logging in if there is none.
    pub async fn logged_in(&self) -> BackendResult<Login> {
        let mut current = self.login.lock().await;
        if let Some(login) = &*current {
            return Ok(login.clone());
        }
        let login = self.fresh_login().await?;
        *current = Some(login.clone());
        Ok(login)
    }

    /// Logs in again after `stale` was refused with `code`, unless another request already
    /// has. Token rejected: new token, then login. Not logged in: login with the same token,
    /// and a new token if that one is rejected too.
    async fn relogin(&self, stale: &Login, code: i64) -> BackendResult<Login> {
        let mut current = self.login.lock().await;
        if let Some(login) = &*current
            && login != stale
        {
            return Ok(login.clone());
        }
        *current = None;
        let login = match code {
            NOT_LOGGED_IN => match self.log_in(stale.token.clone()).await? {
                Some(login) => login,
                None => self.fresh_login().await?,
            },
            _ => self.fresh_login().await?,
        };
        *current = Some(login.clone());
        Ok(login)
    }

    /// A new token, and a login with it.
    async fn fresh_login(&self) -> BackendResult<Login> {
        let token = self.fetch_token().await?;
        self.log_in(token).await?.ok_or_else(|| {
            ERRORS.refusal(
                TOKEN_REJECTED,
                "a token fresh from the platform was rejected at login",
            )
        })
    }

    /// Forgets the session: the next request logs in again.
    pub async fn forget(&self) {
        *self.login.lock().await = None;
    }

    async fn fetch_token(&self) -> BackendResult<String> {
        let form = [
            (
                "oauth_consumer_key",
                self.config.oauth_consumer_key.as_str(),
            ),
            (
                "oauth_consumer_secret",
                self.config.oauth_consumer_secret.as_str(),
            ),
        ];
        let request = self.http.post(self.url("/api/v1/system/token")).form(&form);
        let (reply, _) = self.exchange(request).await?;
        let value = accepted(reply)?;
        value
            .get("account_token")
            .and_then(Value::as_str)
            .filter(|token| !token.is_empty())
            .map(str::to_owned)
            .ok_or_else(|| ERRORS.refusal(0, "the token reply holds no account_token"))
    }

    /// Logs in with `token`; `None` if the platform rejects the token itself.
    async fn log_in(&self, token: String) -> BackendResult<Option<Login>> {
        let form = [
            ("account_token", token.as_str()),
            ("username", self.config.username.as_str()),
            ("password", self.config.password.as_str()),
        ];
        let request = self.http.post(self.url("/api/v1/system/login")).form(&form);
        let (reply, cookie) = self.exchange(request).await?;
        if let Reply::Refused {
            code: TOKEN_REJECTED,
            ..
        } = reply
        {
            return Ok(None);
        }
        accepted(reply)?;
        let cookie = cookie.ok_or_else(|| {
            ERRORS.refusal(0, &format!("the login reply sets no {COOKIE_NAME} cookie"))
        })?;
        tracing::info!(user = %self.config.username, "kedacom: logged in");
        Ok(Some(Login { token, cookie }))
    }

    /// Keeps the token and the login alive; an error if either heartbeat fails.
    pub async fn heartbeat(&self, login: &Login) -> BackendResult<()> {
        let token_path = format!("/api/v1/system/token/{}/heartbeat", segment(&login.token));
        for path in [token_path.as_str(), "/api/v1/system/heartbeat"] {
            accepted(self.send(Verb::Post, path, &[], None, login).await?)?;
        }
        Ok(())
    }

    async fn send(
        &self,
        verb: Verb,
        path: &str,
        query: &[(&str, &str)],
        params: Option<&Value>,
        login: &Login,
    ) -> BackendResult<Reply> {
        let url = self.url(path);
        let params = params.map(Value::to_string);
        let mut form = vec![("account_token", login.token.as_str())];
        let request = match verb {
            Verb::Get => {
                form.extend_from_slice(query);
                self.http.get(url).query(&form)
            }
            Verb::Post | Verb::Put | Verb::Delete => {
                if let Some(params) = &params {
                    form.push(("params", params));
                }
                let method = match verb {
                    Verb::Post => reqwest::Method::POST,
                    Verb::Put => reqwest::Method::PUT,
                    _ => reqwest::Method::DELETE,
                };
                self.http.request(method, url).form(&form)
            }
        };
        let request = request.header(COOKIE, format!("{COOKIE_NAME}={}", login.cookie));
        Ok(self.exchange(request).await?.0)
    }

    /// Sends a request and reads the platform's envelope, recording the service's health.
    async fn exchange(
        &self,
        request: reqwest::RequestBuilder,
    ) -> BackendResult<(Reply, Option<String>)> {
        let request = request.header("API-Level", "3");
        let answer = http::exchange(SERVICE, &self.health, request).await?;
        let cookie = session_cookie(&answer.headers);
        let Some(value) = answer.json() else {
            let what = format!(
                "answered something that is not its API ({} bytes)",
                answer.body.len()
            );
            return Err(http::not_its_api(SERVICE, &self.health, &what));
        };
        let envelope = Envelope::deserialize(&value).unwrap_or(Envelope {
            success: 0,
            error_code: 0,
            description: "reply without \"success\"".into(),
        });
        if envelope.success == 1 {
            self.health.answered(answer.latency);
            return Ok((Reply::Ok(value), cookie));
        }
        let refusal = ERRORS.refusal(envelope.error_code, &envelope.description);
        self.health.refused(answer.latency, &refusal.message);
        Ok((
            Reply::Refused {
                code: envelope.error_code,
                description: envelope.description,
            },
            cookie,
        ))
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }
}

/// `s` as one path segment: everything but RFC 3986's unreserved characters percent-encoded,
/// so that a `conf_id` like `123#456` (seed 004's own example) stays in the path.
pub fn segment(s: &str) -> String {
    use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
    const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC
        .remove(b'-')
        .remove(b'.')
        .remove(b'_')
        .remove(b'~');
    utf8_percent_encode(s, SEGMENT).to_string()
}

/// The meeting-control path of a live conference.
pub fn conf_path(conf_id: &str) -> String {
    format!("/api/v1/vc/confs/{}", segment(conf_id))
}

/// The platform's data, or its own error as a Rooms refusal.
fn accepted(reply: Reply) -> BackendResult<Value> {
    match reply {
        Reply::Ok(value) => Ok(value),
        Reply::Refused { code, description } => Err(ERRORS.refusal(code, &description)),
    }
}

fn decode<T: DeserializeOwned>(value: Value) -> BackendResult<T> {
    serde_json::from_value(value).map_err(|e| ERRORS.refusal(0, &format!("unexpected reply: {e}")))
}

/// The value of the `SSO_COOKIE_KEY` cookie the response sets, if it sets one.
fn session_cookie(headers: &reqwest::header::HeaderMap) -> Option<String> {
    headers
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .find_map(|cookie| {
            let pair = cookie.split(';').next()?.trim();
            let value = pair.strip_prefix(COOKIE_NAME)?.strip_prefix('=')?;
            Some(value.to_owned())
        })
}
