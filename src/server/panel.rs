//! The touch panel of `examples/panel/`, served over plain HTTP on the protocol's port when
//! `[server] panel = true`, so a browser on the room's network needs nothing else. The files are
//! built into the binary: what is served is what was tested.

use tokio_tungstenite::tungstenite::handshake::server::ErrorResponse;
use tokio_tungstenite::tungstenite::http::{HeaderName, HeaderValue, StatusCode, header};

const HTML: &str = "text/html; charset=utf-8";
const JSON: &str = "application/json";

/// Whether the daemon wants a password. A browser cannot read the status of a refused WebSocket
/// upgrade, so without this the panel could not tell "password needed" from "daemon away". It
/// tells nothing new: an upgrade without a password gets 401 from anyone anyway. No password
/// is sent or checked here.
const ACCESS_PATH: &str = "/panel/access.json";
const PASSWORD_REQUIRED: &str = "{\"password_required\": true}\n";
const NO_PASSWORD: &str = "{\"password_required\": false}\n";
const ASSETS: &[(&str, &str, &str)] = &[
    (
        "/panel/",
        HTML,
        include_str!("../../examples/panel/index.html"),
    ),
    (
        "/panel/index.html",
        HTML,
        include_str!("../../examples/panel/index.html"),
    ),
    (
        "/panel/panel.js",
        "text/javascript; charset=utf-8",
        include_str!("../../examples/panel/panel.js"),
    ),
    (
        "/panel/connection.js",
        "text/javascript; charset=utf-8",
        include_str!("../../examples/panel/connection.js"),
    ),
    (
        "/panel/render.js",
        "text/javascript; charset=utf-8",
        include_str!("../../examples/panel/render.js"),
    ),
    (
        "/panel/members.js",
        "text/javascript; charset=utf-8",
        include_str!("../../examples/panel/members.js"),
    ),
    (
        "/panel/panel.css",
        "text/css; charset=utf-8",
        include_str!("../../examples/panel/panel.css"),
    ),
];

/// What a plain HTTP request gets.
#[derive(Debug, PartialEq, Eq)]
pub enum Answer {
    Asset {
        content_type: &'static str,
        body: &'static str,
    },
    /// `/` and `/panel` lead to the panel.
    Redirect,
    NotFound,
    MethodNotAllowed,
}

pub fn route(method: &str, path: &str, password_required: bool) -> Answer {
    if method != "GET" {
        return Answer::MethodNotAllowed;
    }
    if matches!(path, "/" | "/panel") {
        return Answer::Redirect;
    }
    if path == ACCESS_PATH {
        return Answer::Asset {
            content_type: JSON,
            body: if password_required {
                PASSWORD_REQUIRED
            } else {
                NO_PASSWORD
            },
        };
    }
    ASSETS.iter().find(|(asset, ..)| *asset == path).map_or(
        Answer::NotFound,
        |(_, content_type, body)| Answer::Asset { content_type, body },
    )
}

/// The HTTP response for `answer`; the handshake writes it and closes, one request per
/// connection, which keeps this out of the way of the protocol, the port's real job.
pub fn response(answer: &Answer) -> ErrorResponse {
    let (status, headers, body): (StatusCode, &[(HeaderName, &str)], &str) = match answer {
        Answer::Asset { content_type, body } => (
            StatusCode::OK,
            &[
                (header::CONTENT_TYPE, content_type),
                (header::CACHE_CONTROL, "no-cache"),
                (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
            ],
            body,
        ),
        Answer::Redirect => (StatusCode::FOUND, &[(header::LOCATION, "/panel/")], ""),
        Answer::NotFound => (StatusCode::NOT_FOUND, &[], "not found\n"),
        Answer::MethodNotAllowed => (
            StatusCode::METHOD_NOT_ALLOWED,
            &[(header::ALLOW, "GET")],
            "",
        ),
    };
    let mut response = ErrorResponse::new(Some(body.to_owned()));
    *response.status_mut() = status;
    for (name, value) in headers {
        response
            .headers_mut()
            .insert(name, HeaderValue::from_static(value));
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serves_the_panel_files_and_nothing_else() {
        match route("GET", "/panel/", false) {
            Answer::Asset { content_type, body } => {
                assert_eq!(content_type, HTML);
                assert!(body.contains("<script type=\"module\" src=\"panel.js\">"));
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            route("GET", "/panel/panel.js", false),
            Answer::Asset { content_type, .. } if content_type.starts_with("text/javascript")
        ));
        for module in ["connection", "render", "members"] {
            assert!(matches!(
                route("GET", &format!("/panel/{module}.js"), false),
                Answer::Asset { .. }
            ));
        }
        assert_eq!(route("GET", "/", false), Answer::Redirect);
        assert_eq!(
            route("GET", "/panel/../Cargo.toml", false),
            Answer::NotFound
        );
        assert_eq!(route("POST", "/panel/", false), Answer::MethodNotAllowed);
    }

    #[test]
    fn tells_the_panel_whether_a_password_is_wanted_and_nothing_more() {
        for (required, body) in [(true, PASSWORD_REQUIRED), (false, NO_PASSWORD)] {
            assert_eq!(
                route("GET", ACCESS_PATH, required),
                Answer::Asset {
                    content_type: JSON,
                    body
                }
            );
            let parsed: serde_json::Value = serde_json::from_str(body).unwrap();
            assert_eq!(parsed, serde_json::json!({ "password_required": required }));
        }
    }
}
