//! The touch panel of `examples/panel/`, served over plain HTTP on the protocol's port when
//! `[server] panel = true`, so a browser on the room's network needs nothing else. The files are
//! built into the binary: what is served is what was tested.

use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;

const HTML: &str = "text/html; charset=utf-8";
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

pub fn route(method: &str, path: &str) -> Answer {
    if method != "GET" {
        return Answer::MethodNotAllowed;
    }
    if matches!(path, "/" | "/panel") {
        return Answer::Redirect;
    }
    ASSETS.iter().find(|(asset, ..)| *asset == path).map_or(
        Answer::NotFound,
        |(_, content_type, body)| Answer::Asset { content_type, body },
    )
}

/// Writes the answer and closes: one request per connection keeps this out of the way of the
/// protocol, which is the port's real job.
pub async fn answer(stream: &mut TcpStream, answer: &Answer) -> std::io::Result<u16> {
    let (status, headers, body): (&str, String, &str) = match answer {
        Answer::Asset { content_type, body } => (
            "200 OK",
            format!(
                "Content-Type: {content_type}\r\nCache-Control: no-cache\r\n\
                 X-Content-Type-Options: nosniff\r\n"
            ),
            body,
        ),
        Answer::Redirect => ("302 Found", "Location: /panel/\r\n".into(), ""),
        Answer::NotFound => ("404 Not Found", String::new(), "not found\n"),
        Answer::MethodNotAllowed => ("405 Method Not Allowed", "Allow: GET\r\n".into(), ""),
    };
    let head = format!(
        "HTTP/1.1 {status}\r\n{headers}Content-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).await?;
    stream.write_all(body.as_bytes()).await?;
    stream.flush().await?;
    Ok(status[..3].parse().unwrap_or(500))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serves_the_panel_files_and_nothing_else() {
        match route("GET", "/panel/") {
            Answer::Asset { content_type, body } => {
                assert_eq!(content_type, HTML);
                assert!(body.contains("<script src=\"panel.js\">"));
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            route("GET", "/panel/panel.js"),
            Answer::Asset { content_type, .. } if content_type.starts_with("text/javascript")
        ));
        assert_eq!(route("GET", "/"), Answer::Redirect);
        assert_eq!(route("GET", "/panel/../Cargo.toml"), Answer::NotFound);
        assert_eq!(route("POST", "/panel/"), Answer::MethodNotAllowed);
    }
}
