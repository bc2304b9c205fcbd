//! Following a conference the room is in: every `poll_ms`, the conference, its terminals and
//! its chairman. What changed goes to the room as reports; a conference that is gone means the
//! host ended it, and the room's terminal gone or offline means it was removed.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use super::Inner;
use super::model::{CONFERENCE_NOT_FOUND, Conference};
use crate::backend::{BackendEvent, Happening, Participant, Session};
use crate::wire::ErrorCode;

/// A conference the room is in.
pub struct Live {
    pub conf_id: String,
    /// The room's terminal in it.
    pub mt_id: String,
    pub stop: CancellationToken,
    /// The room is hanging up or ending the conference: its own terminal going away is not a
    /// removal.
    exiting: AtomicBool,
    /// Poll now rather than at the next tick.
    poke: Notify,
}

/// While held, the room's own exit is under way.
pub struct Exiting<'a>(&'a Live);

impl Drop for Exiting<'_> {
    fn drop(&mut self) {
        self.0.exiting.store(false, Ordering::SeqCst);
    }
}

impl Live {
    pub fn new(conf_id: &str, mt_id: &str, stop: CancellationToken) -> Self {
        Self {
            conf_id: conf_id.to_owned(),
            mt_id: mt_id.to_owned(),
            stop,
            exiting: AtomicBool::new(false),
            poke: Notify::new(),
        }
    }

    pub fn exiting(&self) -> Exiting<'_> {
        self.exiting.store(true, Ordering::SeqCst);
        Exiting(self)
    }

    pub fn poke(&self) {
        self.poke.notify_one();
    }
}

/// Polls the conference until the room is out of it. `known` are the participants the room
/// was told of on entering, so that only changes are reported.
pub async fn follow(
    inner: Arc<Inner>,
    session: Session,
    live: Arc<Live>,
    mut known: Vec<Participant>,
) {
    loop {
        tokio::select! {
            () = live.stop.cancelled() => return,
            () = tokio::time::sleep(inner.poll_every()) => {}
            () = live.poke.notified() => {}
        }
        let Some(happening) = poll(&inner, &live, &mut known).await else {
            continue;
        };
        if live.exiting.load(Ordering::SeqCst) || live.stop.is_cancelled() {
            continue;
        }
        let over = matches!(happening, Happening::HostEnded | Happening::Removed);
        let report = BackendEvent {
            session: Some(session),
            happening,
        };
        if inner.events.send(report).await.is_err() || over {
            inner.forget(session);
            return;
        }
    }
}

/// One look at the conference: what the room should hear, if anything.
async fn poll(inner: &Inner, live: &Live, known: &mut Vec<Participant>) -> Option<Happening> {
    let conference = inner
        .api
        .get::<Conference>(&super::api::conf_path(&live.conf_id), &[])
        .await;
    match conference {
        Ok(_) => {}
        Err(refusal) if refusal.code == ErrorCode::NO_SUCH_MEETING => {
            tracing::info!(conf_id = %live.conf_id, code = CONFERENCE_NOT_FOUND, "kedacom: the conference has ended");
            return Some(Happening::HostEnded);
        }
        // Unreachable or refused: the health tracker counts it; the next poll tries again.
        Err(_) => return None,
    }
    let terminals = inner.terminals(&live.conf_id).await.ok()?;
    let own_online = terminals
        .mts
        .iter()
        .any(|t| t.mt_id == live.mt_id && t.online == 1);
    if !own_online {
        tracing::info!(conf_id = %live.conf_id, "kedacom: the room's terminal left the conference");
        return Some(Happening::Removed);
    }
    let chairman = inner.chairman(&live.conf_id).await;
    let people = terminals.others(&live.mt_id, &chairman);
    if *known == people {
        return None;
    }
    known.clone_from(&people);
    Some(Happening::Participants(people))
}
