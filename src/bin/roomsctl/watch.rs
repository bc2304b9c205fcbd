//! `roomsctl watch`: events, one line each, until Ctrl-C.
//!
//! A lost connection is made again, waiting 0.25 s and doubling up to 5 s between tries, and
//! the subscription resumes after the last event received (docs/CONTINUITY.md): the events
//! published meanwhile are printed once each, in order. When the daemon no longer has them (it
//! restarted, or it was a long wait in a busy room), watch says so and goes on from now.

use std::process::ExitCode;
use std::time::Duration;

use futures_util::stream::{self, StreamExt as _};
use jsonrpsee::core::client::SubscriptionClientT;
use jsonrpsee::ws_client::WsClient;
use serde_json::{Value, json};

use crate::connect::{self, Failure, Link, cause, request};
use crate::registry;
use crate::render::{self, emit};

const FIRST_WAIT: Duration = Duration::from_millis(250);
const LONGEST_WAIT: Duration = Duration::from_secs(5);
/// roomsd's code for a resume it cannot serve.
const CANNOT_RESUME: u64 = 18;

/// Where the event stream stands for this watch: the daemon's epoch and the last event.
#[derive(Clone, Copy)]
struct Position {
    epoch: u64,
    seq: u64,
}

/// How one connection's watch ended.
enum Ended {
    Stopped,
    Lost(String),
}

/// Subscribes and prints events until Ctrl-C (exit 0). A connection that cannot be made at
/// the start is an error (exit 3); one lost later is made again.
pub async fn watch(link: &Link, json: bool, path: &[String]) -> Result<ExitCode, Failure> {
    let path = watch_path(path)?;
    let mut position = None;
    let mut wait = FIRST_WAIT;
    let ctrl_c = tokio::signal::ctrl_c();
    tokio::pin!(ctrl_c);
    loop {
        let connected = tokio::select! {
            _ = &mut ctrl_c => return Ok(ExitCode::SUCCESS),
            connected = connect::connect(link) => connected,
        };
        let ended = match connected {
            Err(failure) if position.is_none() => return Err(failure),
            Err(Failure(_, why)) => Ended::Lost(why),
            Ok((rpc, closed)) => {
                let ended = tokio::select! {
                    _ = &mut ctrl_c => Ok(Ended::Stopped),
                    ended = follow(link, json, &rpc, &path, &mut position, &mut wait) => ended,
                };
                drop(rpc); // jsonrpsee's background task then sends a close frame
                let _ = tokio::time::timeout(Duration::from_secs(1), closed).await;
                ended?
            }
        };
        let Ended::Lost(why) = ended else {
            return Ok(ExitCode::SUCCESS);
        };
        eprintln!(
            "roomsctl: {why}; connecting again in {:.2}s",
            wait.as_secs_f32()
        );
        tokio::select! {
            _ = &mut ctrl_c => return Ok(ExitCode::SUCCESS),
            () = tokio::time::sleep(wait) => {}
        }
        wait = (wait * 2).min(LONGEST_WAIT);
    }
}

/// Subscribes on one connection, resuming after `position` if there is one, and prints events
/// until the connection ends.
async fn follow(
    link: &Link,
    json: bool,
    rpc: &WsClient,
    path: &[String],
    position: &mut Option<Position>,
    wait: &mut Duration,
) -> Result<Ended, Failure> {
    let lost = |e| Ok(Ended::Lost(format!("connection lost: {}", cause(e))));
    // Listen before subscribing, so that no event slips between the two.
    let mut streams = Vec::new();
    for module in registry::with_events() {
        let method = format!("Event/{}", module.name);
        let subscription = match rpc.subscribe_to_method::<Value>(&method).await {
            Ok(subscription) => subscription,
            Err(e) => return lost(e),
        };
        streams.push(subscription.map(move |params| (module.name, params)));
    }
    let resume = *position;
    let mut params = json!({"path": path, "since": 0});
    if let Some(Position { epoch, seq }) = resume {
        params = json!({"path": path, "since": seq, "epoch": epoch});
    }
    let mut answer = request(link, rpc, "Subscribe", params).await?;
    if resume.is_some() && answer["error_code"] == CANNOT_RESUME {
        let why = answer["message"].as_str().unwrap_or_default().to_owned();
        eprintln!(
            "roomsctl: events published while disconnected are lost ({why}); watching from now"
        );
        answer = request(link, rpc, "Subscribe", json!({"path": path, "since": 0})).await?;
    } else if resume.is_some() && answer["error_code"] == 0 {
        eprintln!("roomsctl: connected again; missed events follow");
    }
    if answer["error_code"] != 0 {
        return Err(Failure(1, crate::call::error_text(&answer)));
    }
    if resume.is_none() {
        let watching = render::subscriptions(&answer["data"]["subscriptions"]);
        eprintln!("roomsctl: watching {watching}; Ctrl-C to stop");
    }
    let data = &answer["data"];
    if let (Some(epoch), Some(seq)) = (data["epoch"].as_u64(), data["seq"].as_u64())
        && resume.is_none_or(|r| r.epoch != epoch)
    {
        // A fresh start: events from now on. A resume keeps its position until the replayed
        // events move it, so that a connection lost during the replay resumes from there.
        *position = Some(Position { epoch, seq });
    }
    *wait = FIRST_WAIT;
    let mut events = stream::select_all(streams);
    loop {
        match events.next().await {
            Some((module, Ok(params))) => {
                if let (Some(p), Some(seq)) = (position.as_mut(), params["seq"].as_u64()) {
                    p.seq = p.seq.max(seq);
                }
                if json {
                    emit(&params.to_string());
                } else {
                    emit(&render::event_line(module, &params));
                }
            }
            Some((module, Err(e))) => eprintln!("roomsctl: undecodable Event/{module}: {e}"),
            // The streams end with the connection (or if roomsctl fell too far behind).
            None => {
                let gone = tokio::time::timeout(Duration::from_secs(1), rpc.on_disconnect());
                let why = gone.await.map_or_else(|_| "events dropped".into(), cause);
                return Ok(Ended::Lost(format!("connection lost: {why}")));
            }
        }
    }
}

/// The Subscribe path of `watch`: module and event in their registry names.
fn watch_path(path: &[String]) -> Result<Vec<String>, Failure> {
    let Some((first, rest)) = path.split_first() else {
        return Ok(Vec::new());
    };
    let names: Vec<&str> = registry::with_events().map(|m| m.name).collect();
    let module = registry::module(first)
        .filter(|m| !m.events.is_empty())
        .ok_or_else(|| {
            Failure::usage(format!(
                "no module {first:?} with events; those with events: {}",
                names.join(", ")
            ))
        })?;
    let mut canonical = vec![module.name.to_owned()];
    if let Some(event) = rest.first() {
        let event = registry::event(module, event).ok_or_else(|| {
            let events: Vec<&str> = module.events.iter().map(|e| e.name).collect();
            let events = events.join(", ");
            Failure::usage(format!(
                "{} has no event {event:?}; its events: {events}",
                module.name
            ))
        })?;
        canonical.push(event.to_owned());
    }
    if rest.len() > 1 {
        return Err(Failure::usage("watch takes a module and at most one event"));
    }
    Ok(canonical)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn path(words: &[&str]) -> Vec<String> {
        let words: Vec<String> = words.iter().map(|w| w.to_string()).collect();
        watch_path(&words).unwrap_or_else(|_| panic!("{words:?} is a watch path"))
    }

    /// `watch` knows every module that sends events, Backend included, from the registry.
    #[test]
    fn every_module_with_events_can_be_watched() {
        for module in roomsd::modules::MODULES {
            for event in module.events {
                assert_eq!(
                    path(&[module.name, event.name]),
                    [module.name, event.name],
                    "{}.{}",
                    module.name,
                    event.name
                );
            }
        }
        assert_eq!(path(&["backend"]), ["Backend"]);
        assert_eq!(
            path(&["backend", "backend_status_changed"]),
            ["Backend", "BackendStatusChanged"]
        );
        assert!(watch_path(&["members".to_string()]).is_err(), "no events");
    }
}
