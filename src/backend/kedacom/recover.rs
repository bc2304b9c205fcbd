//! Making the platform and the room agree again.
//!
//! - Abandon: a start or join the room gave up may have got the room's terminal dialled into a
//!   conference. What each attempt placed is recorded before each request that places it (the
//!   request may reach the platform even when its answer never comes back), and abandoning
//!   hangs that terminal up, retrying every poll until the platform confirms, or says the
//!   conference or the terminal is not there.
//! - Reconcile: is the room's terminal online in a live conference? Then that is the meeting
//!   the room is in, followed from now on like a joined one.

use std::sync::Arc;

use super::Inner;
use super::api::Verb;
use super::model::{Conference, LiveConferences, Terminals};
use crate::backend::{BackendResult, MeetingDetails, Session};
use crate::wire::{ErrorCode, Refusal};

/// What an attempt placed on the platform, as far as it got.
#[derive(Debug, Clone, Default)]
pub struct Placed {
    /// The conference the terminal was added to or invited into; `None` while a start's
    /// create has not answered.
    pub conf_id: Option<String>,
    /// The terminal's id in it, once known.
    pub mt_id: Option<String>,
}

/// The platform says there is nothing (left) to hang up.
fn nothing_there(refusal: &Refusal) -> bool {
    refusal.code == ErrorCode::NO_SUCH_MEETING || refusal.code == ErrorCode::USER_NOT_IN_MEETING
}

impl Inner {
    /// Records that `session` is about to place the terminal in `conf_id` (`None`: a conference
    /// not created yet) as `mt_id`, if known.
    pub(super) fn placing(&self, session: Session, conf_id: Option<&str>, mt_id: Option<&str>) {
        let mut placed = self.placed.lock().expect("placed lock");
        let entry = placed.entry(session).or_default();
        if let Some(conf_id) = conf_id {
            entry.conf_id = Some(conf_id.to_owned());
        }
        if let Some(mt_id) = mt_id {
            entry.mt_id = Some(mt_id.to_owned());
        }
    }

    /// The room gave `session` up: stop following it, and hang up what it placed.
    pub(super) async fn abandon(self: Arc<Self>, session: Session) {
        let followed = self.live.lock().expect("live lock").remove(&session);
        if let Some(live) = &followed {
            live.stop.cancel();
        }
        let Some(mut placed) = self.placed.lock().expect("placed lock").remove(&session) else {
            // Nothing placed (a meeting reconcile found): nothing to hang up.
            return;
        };
        if let Some(live) = followed {
            placed.conf_id = Some(live.conf_id.clone());
            placed.mt_id = Some(live.mt_id.clone());
        }
        self.abandoning
            .lock()
            .expect("abandoning lock")
            .insert(session, placed.conf_id.clone());
        let every = self.poll_every();
        loop {
            match self.hang_up(&mut placed).await {
                Ok(()) => break,
                Err(refusal) => {
                    tracing::warn!(%refusal, ?session, "kedacom: cannot hang up an abandoned call yet; trying again");
                }
            }
            tokio::select! {
                () = self.stop.cancelled() => break,
                () = tokio::time::sleep(every) => {}
            }
        }
        self.abandoning
            .lock()
            .expect("abandoning lock")
            .remove(&session);
    }

    /// One try at hanging up what was placed: done, or nothing there to hang up.
    async fn hang_up(&self, placed: &mut Placed) -> BackendResult<()> {
        if placed.conf_id.is_none() {
            // The create may have reached the platform: wherever the terminal is online now,
            // that is the conference it made.
            let Some(found) = self.find_own_conference(&[]).await? else {
                return Ok(());
            };
            placed.conf_id = Some(found.conference.conf_id);
            placed.mt_id = Some(found.mt_id);
        }
        let conf_id = placed.conf_id.clone().unwrap_or_default();
        let mt_id = match &placed.mt_id {
            Some(mt_id) => mt_id.clone(),
            None => match self.terminals(&conf_id).await {
                Ok(terminals) => match self.own_terminal(&terminals, &conf_id) {
                    Ok(mt_id) => mt_id,
                    Err(_) => return Ok(()),
                },
                Err(refusal) if nothing_there(&refusal) => return Ok(()),
                Err(refusal) => return Err(refusal),
            },
        };
        placed.mt_id = Some(mt_id.clone());
        match self.dial(&conf_id, &mt_id, Verb::Delete).await {
            Ok(()) => {
                tracing::info!(%conf_id, %mt_id, "kedacom: hung up the call of an abandoned attempt");
                Ok(())
            }
            Err(refusal) if nothing_there(&refusal) => Ok(()),
            Err(refusal) => Err(refusal),
        }
    }

    /// The live conference the room's terminal is online in, if any, but for `skip`.
    async fn find_own_conference(&self, skip: &[String]) -> BackendResult<Option<Found>> {
        let live: LiveConferences = self
            .api
            .get("/api/v1/vc/confs", &[("start", "0"), ("count", "0")])
            .await?;
        for conference in live.confs {
            if conference.conf_id.is_empty() || skip.contains(&conference.conf_id) {
                continue;
            }
            let terminals = match self.terminals(&conference.conf_id).await {
                Ok(terminals) => terminals,
                // Ended since the list was read.
                Err(refusal) if refusal.code == ErrorCode::NO_SUCH_MEETING => continue,
                Err(refusal) => return Err(refusal),
            };
            let own = terminals
                .mts
                .iter()
                .find(|t| self.is_own(t) && t.online == 1);
            if let Some(own) = own {
                let mt_id = own.mt_id.clone();
                return Ok(Some(Found {
                    conference,
                    terminals,
                    mt_id,
                }));
            }
        }
        Ok(None)
    }

    /// The conference the room's terminal is in, followed as `session` from now on.
    pub(super) async fn reconcile(
        self: Arc<Self>,
        session: Session,
    ) -> BackendResult<Option<MeetingDetails>> {
        let skip = {
            let abandoning = self.abandoning.lock().expect("abandoning lock");
            if abandoning.values().any(Option::is_none) {
                // Hanging up a start's call somewhere: whatever is found may be that call.
                return Ok(None);
            }
            abandoning.values().flatten().cloned().collect::<Vec<_>>()
        };
        let Some(found) = self.find_own_conference(&skip).await? else {
            return Ok(None);
        };
        let conf_id = found.conference.conf_id.clone();
        let mut meeting = self
            .details(&conf_id, &found.conference, &found.terminals, &found.mt_id)
            .await;
        meeting.room_is_creator = found.conference.creator.account == self.config.account;
        if !self.take_over(session, &conf_id) {
            return Ok(None);
        }
        self.enter(session, &meeting);
        Ok(Some(meeting))
    }

    /// Before following `conf_id` as `session`: an earlier session still following it (the
    /// meeting the room let go of when the platform went away) gives way. `false` if a later
    /// one follows it: the room joined it meanwhile.
    fn take_over(&self, session: Session, conf_id: &str) -> bool {
        let mut live = self.live.lock().expect("live lock");
        if live
            .iter()
            .any(|(s, l)| *s > session && l.conf_id == conf_id)
        {
            return false;
        }
        let earlier: Vec<Session> = live
            .iter()
            .filter(|(s, l)| **s < session && l.conf_id == conf_id)
            .map(|(s, _)| *s)
            .collect();
        let mut placed = self.placed.lock().expect("placed lock");
        for s in earlier {
            if let Some(l) = live.remove(&s) {
                l.stop.cancel();
            }
            placed.remove(&s);
        }
        true
    }
}

/// A conference the room's terminal is online in.
struct Found {
    conference: Conference,
    terminals: Terminals,
    mt_id: String,
}
