//! What the adapters of real services share: one HTTP client setup, and how a service that
//! cannot be reached, or answers with an error of its own, becomes a Rooms refusal.

use std::sync::Once;
use std::time::Duration;

use serde_json::Value;

use super::HealthTracker;
use crate::wire::{ErrorCode, Refusal};

/// How long connecting may take. Rooms sit on the same LAN or WAN as their platform: a connect
/// that takes longer than this will not succeed, and failing early leaves time within the
/// action's `timeout_ms` to say so.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);

/// A client whose every request ends within `timeout`.
pub fn client(timeout: Duration) -> reqwest::Client {
    static PROVIDER: Once = Once::new();
    // rustls needs a process-wide crypto provider; ring is already built for jsonrpsee.
    PROVIDER.call_once(|| {
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
    reqwest::Client::builder()
        .connect_timeout(CONNECT_TIMEOUT.min(timeout))
        .timeout(timeout)
        .user_agent(concat!("roomsd/", env!("CARGO_PKG_VERSION")))
        .build()
        .expect("the HTTP client's settings are valid")
}

/// The service could not be reached: Rooms code 12, naming the service and what failed.
pub fn unreachable(service: &str, error: &reqwest::Error) -> Refusal {
    let what = if error.is_timeout() {
        "did not answer in time".to_owned()
    } else if error.is_connect() {
        format!("cannot connect ({})", root_cause(error))
    } else if error.is_decode() {
        format!(
            "answered something that is not its API ({})",
            root_cause(error)
        )
    } else {
        root_cause(error)
    };
    Refusal::new(ErrorCode::NETWORK, format!("{service}: {what}"))
}

/// What a service answered: its status, headers and body, and how long it took.
pub struct Answer {
    pub status: reqwest::StatusCode,
    pub headers: reqwest::header::HeaderMap,
    pub body: bytes::Bytes,
    pub latency: Duration,
}

impl Answer {
    /// The body as JSON, if it is JSON (an error page may not be).
    pub fn json(&self) -> Option<Value> {
        serde_json::from_slice(&self.body).ok()
    }

    /// The service refused with an error of its own: recorded in `health` as its last error.
    pub fn refused(&self, health: &HealthTracker, refusal: Refusal) -> Refusal {
        health.refused(self.latency, &refusal.message);
        refusal
    }
}

/// Sends `request` and reads the whole answer. A service that cannot be reached is recorded in
/// `health` and refused with code 12; what the answer means is the adapter's to judge (and to
/// record).
pub async fn exchange(
    service: &str,
    health: &HealthTracker,
    request: reqwest::RequestBuilder,
) -> Result<Answer, Refusal> {
    let started = std::time::Instant::now();
    let answer = async {
        let response = request.send().await?;
        let (status, headers) = (response.status(), response.headers().clone());
        Ok::<_, reqwest::Error>((status, headers, response.bytes().await?))
    }
    .await;
    match answer {
        Ok((status, headers, body)) => Ok(Answer {
            status,
            headers,
            body,
            latency: started.elapsed(),
        }),
        Err(error) => {
            let refusal = unreachable(service, &error);
            health.unreachable(&refusal.message);
            Err(refusal)
        }
    }
}

/// [`exchange`], and a gateway answering 502, 503 or 504 (the service behind it is away)
/// counted as unreachable rather than as an error of the service's own.
pub async fn exchange_behind_gateway(
    service: &str,
    health: &HealthTracker,
    request: reqwest::RequestBuilder,
) -> Result<Answer, Refusal> {
    let answer = exchange(service, health, request).await?;
    let status = answer.status.as_u16();
    if (502..=504).contains(&status) {
        let reason = answer.status.canonical_reason().unwrap_or_default();
        return Err(not_its_api(
            service,
            health,
            &format!("its gateway answers HTTP {status} {reason}"),
        ));
    }
    Ok(answer)
}

/// An answer that is not the service's API (a proxy's error page, a captive portal): as good as
/// unreachable, code 12, and recorded so.
pub fn not_its_api(service: &str, health: &HealthTracker, what: &str) -> Refusal {
    let refusal = Refusal::new(ErrorCode::NETWORK, format!("{service}: {what}"));
    health.unreachable(&refusal.message);
    refusal
}

/// What the answer to a contact probe says (a request chosen to cost the service nothing,
/// whose answer only proves it is there), sent with [`exchange_behind_gateway`]: refused
/// credentials (401, 403) are an error of the service's own, recorded; anything else (405 for
/// a method the path does not take, 404, 2xx) is an answer.
pub fn probed(service: &str, health: &HealthTracker, answer: &Answer) -> Result<(), Refusal> {
    let status = answer.status.as_u16();
    let reason = answer.status.canonical_reason().unwrap_or_default();
    match status {
        401 | 403 => Err(answer.refused(
            health,
            Refusal::new(
                ErrorCode::AUTH_FAILED,
                format!("{service}: the credentials are refused (HTTP {status} {reason})"),
            ),
        )),
        _ => {
            health.answered(answer.latency);
            Ok(())
        }
    }
}

/// The innermost cause, which says what actually happened ("Connection refused").
fn root_cause(error: &(dyn std::error::Error + 'static)) -> String {
    let mut cause = error;
    while let Some(source) = cause.source() {
        cause = source;
    }
    cause.to_string()
}

/// One adapter's table from its service's error codes to Rooms codes (PROTOCOL.md §5).
pub struct ErrorTable {
    pub service: &'static str,
    pub codes: &'static [(i64, ErrorCode)],
    /// The Rooms code of an error the table does not name.
    pub otherwise: ErrorCode,
}

impl ErrorTable {
    pub fn code(&self, service_code: i64) -> ErrorCode {
        self.codes
            .iter()
            .find(|(code, _)| *code == service_code)
            .map_or(self.otherwise, |(_, rooms)| *rooms)
    }

    /// The refusal for the service's error `service_code`: its Rooms code, and a message that
    /// names the service's own code and text.
    pub fn refusal(&self, service_code: i64, description: &str) -> Refusal {
        let description = description.trim();
        let message = if description.is_empty() {
            format!("{} error {service_code}", self.service)
        } else {
            format!("{} error {service_code}: {description}", self.service)
        };
        Refusal::new(self.code(service_code), message)
    }
}

/// The base URL without its trailing slash, so that paths can be appended.
pub fn base(url: &str) -> String {
    url.trim().trim_end_matches('/').to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    const TABLE: ErrorTable = ErrorTable {
        service: "kedacom",
        codes: &[(12103, ErrorCode::NO_SUCH_MEETING)],
        otherwise: ErrorCode::FAIL,
    };

    #[test]
    fn a_service_error_keeps_its_own_code_in_the_message() {
        let r = TABLE.refusal(12103, "conference not found");
        assert_eq!(r.code, ErrorCode::NO_SUCH_MEETING);
        assert_eq!(r.message, "kedacom error 12103: conference not found");
        let r = TABLE.refusal(99, " ");
        assert_eq!(
            (r.code, r.message.as_str()),
            (ErrorCode::FAIL, "kedacom error 99")
        );
    }

    #[tokio::test]
    async fn an_unreachable_service_is_error_12_naming_the_cause() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        drop(listener);
        let error = client(Duration::from_secs(2))
            .get(format!("http://{addr}/"))
            .send()
            .await
            .unwrap_err();
        let r = unreachable("easemob", &error);
        assert_eq!(r.code, ErrorCode::NETWORK);
        assert!(
            r.message.starts_with("easemob: cannot connect ("),
            "{}",
            r.message
        );
    }
}
