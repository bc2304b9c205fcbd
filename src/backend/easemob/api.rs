//! Easemob's REST conventions: the app token (cached, refreshed before it expires or once on a
//! 401), JSON bodies, errors by HTTP status or in the body's `error` field.

use std::time::{Duration, Instant};

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use reqwest::{Method, StatusCode, header};
use serde_json::{Value, json};

use super::EasemobConfig;
use super::NAME;
use crate::backend::http::{self, ErrorTable};
use crate::backend::{BackendResult, HealthTracker};
use crate::wire::{ErrorCode, Refusal};

/// Easemob answers errors by HTTP status, so the table is keyed by status. 403: the
/// audio/video service is not enabled for the app.
const ERRORS: ErrorTable = ErrorTable {
    service: NAME,
    codes: &[
        (401, ErrorCode::AUTH_FAILED),
        (403, ErrorCode::NO_ENTERPRISE_PERMISSION),
        (404, ErrorCode::NO_SUCH_MEETING),
    ],
    otherwise: ErrorCode::FAIL,
};

/// Characters escaped in a path segment: conference ids and user names are the caller's text.
const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// How long before its expiry a token is replaced: a minute, or a tenth of its lifetime when
/// that is shorter, so that a short-lived token is still used at all.
const REFRESH_MARGIN: Duration = Duration::from_secs(60);

/// The longest lifetime believed, so that a wild `expires_in` cannot overflow the clock.
const MAX_LIFETIME: Duration = Duration::from_secs(365 * 24 * 3600);

/// The lifetime assumed when a token answer has no usable `expires_in`: an hour. Long enough
/// that tokens are not fetched per request (Easemob bans accounts that fetch too often),
/// short enough to be within any real token's life; a 401 replaces it earlier anyway.
const DEFAULT_LIFETIME: Duration = Duration::from_secs(3600);

pub(super) struct Api {
    client: reqwest::Client,
    /// `{base_url}/{org}/{app}`.
    app_url: String,
    client_id: String,
    client_secret: String,
    pub(super) health: HealthTracker,
    /// Held while a token is fetched, so that concurrent requests wait for one fetch.
    token: tokio::sync::Mutex<Option<Token>>,
}

struct Token {
    value: String,
    refresh_at: Instant,
}

impl Api {
    pub(super) fn new(config: &EasemobConfig, timeout: Duration, health: HealthTracker) -> Self {
        let app_url = format!(
            "{}/{}/{}",
            http::base(&config.base_url),
            utf8_percent_encode(config.org.trim(), SEGMENT),
            utf8_percent_encode(config.app.trim(), SEGMENT)
        );
        Self {
            client: http::client(timeout),
            app_url,
            client_id: config.client_id.clone(),
            client_secret: config.client_secret.clone(),
            health,
            token: tokio::sync::Mutex::new(None),
        }
    }

    pub(super) fn url(&self, segments: &[&str]) -> String {
        let mut url = self.app_url.clone();
        for segment in segments {
            url.push('/');
            url.extend(utf8_percent_encode(segment, SEGMENT));
        }
        url
    }

    /// One HTTP exchange, recorded in the health. Ok: the 2xx body (`null` if empty).
    async fn exchange(
        &self,
        method: Method,
        url: &str,
        token: Option<&str>,
        body: Option<&Value>,
    ) -> BackendResult<Value> {
        let mut request = self
            .client
            .request(method, url)
            .header(header::ACCEPT, "application/json");
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request
                .header(header::CONTENT_TYPE, "application/json")
                .body(body.to_string());
        }
        let answer = http::exchange_behind_gateway(NAME, &self.health, request).await?;
        let json = answer.json();
        if !answer.status.is_success() {
            let code = i64::from(answer.status.as_u16());
            let refusal = ERRORS.refusal(code, &describe(answer.status, json.as_ref()));
            return Err(answer.refused(&self.health, refusal));
        }
        // Easemob says errors by status; a 2xx body that is not JSON is not its API.
        if !answer.body.is_empty() && json.is_none() {
            let what = "answered something that is not JSON";
            return Err(http::not_its_api(NAME, &self.health, what));
        }
        // Its answers carry `error: 0`; anything else there is a failure, whatever the status.
        if let Some(error) = json.as_ref().and_then(body_error) {
            let refusal = Refusal::new(ErrorCode::FAIL, format!("{NAME} error {error}"));
            return Err(answer.refused(&self.health, refusal));
        }
        self.health.answered(answer.latency);
        Ok(json.unwrap_or(Value::Null))
    }

    /// Whether a token is cached (it may be due for refreshing).
    pub(super) async fn has_token(&self) -> bool {
        self.token.lock().await.is_some()
    }

    /// The cached token, or a fresh one when it is due, was just `rejected` (answered 401), or
    /// `fresh` is asked for.
    pub(super) async fn token(&self, rejected: Option<&str>, fresh: bool) -> BackendResult<String> {
        let mut cached = self.token.lock().await;
        if let Some(token) = cached.as_ref() {
            let due = Instant::now() >= token.refresh_at;
            // Another request may have replaced the rejected token already: use that one.
            if !due && !fresh && rejected != Some(token.value.as_str()) {
                return Ok(token.value.clone());
            }
        }
        let body = json!({
            "grant_type": "client_credentials",
            "client_id": self.client_id,
            "client_secret": self.client_secret,
        });
        let reply = self
            .exchange(Method::POST, &self.url(&["token"]), None, Some(&body))
            .await?;
        let Some(value) = reply.get("access_token").and_then(Value::as_str) else {
            return Err(Refusal::new(
                ErrorCode::AUTH_FAILED,
                format!("{NAME}: the token answer has no access_token"),
            ));
        };
        let seconds = reply
            .get("expires_in")
            .and_then(|v| v.as_u64().or_else(|| v.as_f64().map(|f| f.max(0.0) as u64)))
            .filter(|s| *s > 0);
        let lifetime = seconds.map_or(DEFAULT_LIFETIME, Duration::from_secs);
        let lifetime = lifetime.min(MAX_LIFETIME);
        let margin = REFRESH_MARGIN.min(lifetime / 10);
        *cached = Some(Token {
            value: value.to_owned(),
            refresh_at: Instant::now() + (lifetime - margin),
        });
        Ok(value.to_owned())
    }

    /// A request with the app token; a 401 refreshes the token once and retries once.
    pub(super) async fn call(
        &self,
        method: Method,
        url: &str,
        body: Option<&Value>,
    ) -> BackendResult<Value> {
        let token = self.token(None, false).await?;
        match self.exchange(method.clone(), url, Some(&token), body).await {
            Err(refusal) if refusal.code == ErrorCode::AUTH_FAILED => {
                let token = self.token(Some(&token), false).await?;
                self.exchange(method, url, Some(&token), body).await
            }
            other => other,
        }
    }
}

/// The `error` of a 2xx body when it says something went wrong: a non-zero number or a
/// non-empty text other than `"0"`.
fn body_error(json: &Value) -> Option<String> {
    let error = json.get("error")?;
    let description = json
        .get("error_description")
        .and_then(Value::as_str)
        .filter(|s| !s.trim().is_empty());
    let code = match error {
        Value::Number(n) if n.as_i64() == Some(0) => return None,
        Value::Number(n) => n.to_string(),
        Value::String(s) if s.trim().is_empty() || s.trim() == "0" => return None,
        Value::String(s) => s.trim().to_owned(),
        Value::Null | Value::Bool(false) => return None,
        other => other.to_string(),
    };
    Some(match description {
        Some(d) => format!("{code}: {d}"),
        None => code,
    })
}

/// The error text of an answer: Easemob's `error_description` or `error`, else the status.
fn describe(status: StatusCode, json: Option<&Value>) -> String {
    let field = |key: &str| {
        json.and_then(|j| j.get(key))
            .and_then(Value::as_str)
            .filter(|s| !s.trim().is_empty())
    };
    field("error_description")
        .or_else(|| field("error"))
        .or_else(|| field("message"))
        .map_or_else(
            || status.canonical_reason().unwrap_or("error").to_owned(),
            str::to_owned,
        )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_body_error_is_a_failure_unless_it_is_zero() {
        assert_eq!(body_error(&json!({"error": 0, "id": "x"})), None);
        assert_eq!(body_error(&json!({"id": "x"})), None);
        assert_eq!(body_error(&json!({"error": "0"})), None);
        assert_eq!(body_error(&json!({"error": 3})).as_deref(), Some("3"));
        assert_eq!(
            body_error(&json!({"error": "quota", "error_description": "too many"})).as_deref(),
            Some("quota: too many")
        );
    }
}
