//! A room driven from Rust with jsonrpsee's stock WebSocket client, as an integrator would
//! write it: join a meeting, wait for its outcome, list who is there, leave.
//!
//!     cargo run --example jsonrpsee_client -- [ws://127.0.0.1:6295/] [meeting code]
//!
//! With a password set on the daemon, put it in `ROOMSD_PASSWORD`: it is sent as
//! `Authorization: Bearer …`, because jsonrpsee cannot offer the `auth-` sub-protocol.
//!
//! Two things differ from plain JSON-RPC, and both are handled below:
//! - a request that the room refuses still gets a `result`, with `error_code` not 0;
//! - events are notifications named `Event/<Module>`, sent once `Subscribe` asks for them, and
//!   an action's outcome arrives as an event after its acknowledgement.

use std::time::Duration;

use jsonrpsee::core::client::{ClientT, Subscription, SubscriptionClientT};
use jsonrpsee::core::params::ObjectParams;
use jsonrpsee::ws_client::{HeaderMap, WsClient, WsClientBuilder};
use serde_json::{Value, json};

type Error = Box<dyn std::error::Error + Send + Sync>;

#[tokio::main]
async fn main() -> Result<(), Error> {
    let mut args = std::env::args().skip(1);
    let url = args.next().unwrap_or_else(|| "ws://127.0.0.1:6295/".into());
    let code = args.next().unwrap_or_else(|| "111222333".into());

    let mut headers = HeaderMap::new();
    if let Ok(password) = std::env::var("ROOMSD_PASSWORD") {
        headers.insert("Authorization", format!("Bearer {password}").parse()?);
    }
    let client = WsClientBuilder::default()
        .set_headers(headers)
        .build(&url)
        .await
        .map_err(|e| {
            let hint = match e.to_string() {
                t if t.contains("401") => "set ROOMSD_PASSWORD to the room's password",
                t if t.contains("refused") => "is roomsd running?",
                _ => "check the URL",
            };
            format!("cannot connect to {url}: {e} ({hint})")
        })?;

    // Listen before asking, so that no event is missed.
    let mut meeting_events = client.subscribe_to_method::<Value>("Event/Meeting").await?;
    request(&client, "Subscribe", json!({"path": ["Meeting"]})).await?;

    let info = request(
        &client,
        "Query",
        json!({"path": ["Meeting", "MeetingInfo"]}),
    )
    .await?;
    println!(
        "meeting_status before: {}",
        info["data"]["meeting_info"]["meeting_status"]
    );

    call_meeting(
        &client,
        "JoinMeeting",
        json!({"meeting_code": code, "password": ""}),
    )
    .await?;
    let joined = wait_for(&mut meeting_events, "JoinMeetingCompleted").await?;
    if joined["error_code"] != 0 {
        return Err(format!(
            "join failed: {} {}",
            joined["error_code"], joined["message"]
        )
        .into());
    }
    println!("joined {}", joined["data"]["meeting_info"]["meeting_code"]);

    let members = request(&client, "Query", json!({"path": ["Members"]})).await?;
    let names: Vec<&str> = members["data"]["user_list_info"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|user| user["nickname"].as_str())
        .collect();
    println!("in the meeting: {}", names.join(", "));

    call_meeting(&client, "LeaveMeeting", json!({})).await?;
    wait_for(&mut meeting_events, "LeaveMeeting").await?;
    println!("left");
    Ok(())
}

/// Sends a request with named params; a non-zero `error_code` is an error.
async fn request(client: &WsClient, method: &str, params: Value) -> Result<Value, Error> {
    let mut named = ObjectParams::new();
    for (key, value) in params.as_object().into_iter().flatten() {
        named.insert(key, value)?;
    }
    let result: Value = client.request(method, named).await?;
    match result["error_code"].as_i64() {
        Some(0) => Ok(result),
        _ => Err(format!(
            "{method} refused: {} {}",
            result["error_code"], result["message"]
        )
        .into()),
    }
}

async fn call_meeting(client: &WsClient, action: &str, params: Value) -> Result<Value, Error> {
    let call = json!({"action": action, "action_params": params});
    request(client, "Call/Meeting", call).await
}

/// The next `Event/Meeting` whose `sub_event` is `name`; its `params`.
async fn wait_for(events: &mut Subscription<Value>, name: &str) -> Result<Value, Error> {
    let wait = async {
        while let Some(event) = events.next().await {
            let event = event?;
            if event["sub_event"] == name {
                return Ok(event);
            }
        }
        Err::<Value, Error>("the connection closed".into())
    };
    tokio::time::timeout(Duration::from_secs(30), wait)
        .await
        .map_err(|_| format!("no {name} event within 30 s"))?
}
