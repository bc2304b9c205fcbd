//! The life of a simulated meeting: what MeetingControl actions do to it, people coming and
//! going, the host ending it, the waiting room, and the built-in demo meetings.

use std::sync::Arc;
use std::time::Duration;

use rand::Rng;
use tokio_util::sync::CancellationToken;

use super::{Active, Inner, unix_now};
use super::{MeetingCode, SimMeeting};
use crate::backend::{BackendResult, Happening, MemberChanges, RoomRole, Session};
use crate::domain::ControlAction;
use crate::wire::{ErrorCode, Refusal};

pub(super) fn no_meeting() -> Refusal {
    Refusal::new(
        ErrorCode::NOT_IN_MEETING,
        "simulator: the room is not in that meeting any more",
    )
}

impl Inner {
    /// Applies a MeetingControl action to the active meeting, as the service would, checking
    /// its own rules. Returns what to report, and whether a host was asked to record.
    pub(super) fn carry_out(
        &self,
        session: Session,
        action: &ControlAction,
    ) -> BackendResult<(Option<Happening>, bool)> {
        self.with_active(session, |active| apply_control(active, action))
            .ok_or_else(no_meeting)?
    }
}

/// What a MeetingControl action does to a meeting: see [`Inner::carry_out`].
fn apply_control(
    active: &mut Active,
    action: &ControlAction,
) -> BackendResult<(Option<Happening>, bool)> {
    let host = active.room_role != RoomRole::Attendee;
    if !host && *action != ControlAction::RequestRecord {
        return Err(Refusal::new(
            ErrorCode::NOT_HOST,
            "simulator: the room has no host rights",
        ));
    }
    let find = |user_id: &str| {
        active
            .participants
            .iter()
            .position(|p| p.user_id == user_id)
            .ok_or_else(|| {
                Refusal::new(
                    ErrorCode::USER_NOT_IN_MEETING,
                    format!("simulator: {user_id} is not in the meeting"),
                )
            })
    };
    let mut change = MemberChanges::default();
    match action {
        ControlAction::MuteAll { .. } => {
            for p in active
                .participants
                .iter_mut()
                .filter(|p| !p.host && p.audio_on)
            {
                p.audio_on = false;
                change.updated.push(p.clone());
            }
        }
        ControlAction::MuteMember { user_id } => {
            let i = find(user_id)?;
            active.participants[i].audio_on = false;
            change.updated.push(active.participants[i].clone());
        }
        ControlAction::StopVideo { user_id } => {
            let i = find(user_id)?;
            active.participants[i].video_on = false;
            change.updated.push(active.participants[i].clone());
        }
        ControlAction::RemoveMember { user_id, .. } => {
            let i = find(user_id)?;
            change.left.push(active.participants.remove(i).user_id);
        }
        ControlAction::RequestRecord => {
            let host_present = active.participants.iter().any(|p| p.host);
            return Ok((None, !host && host_present));
        }
        ControlAction::StartRecord { .. } => {
            return Ok((Some(Happening::Recording(true)), false));
        }
    }
    Ok((Some(Happening::Members(change)), false))
}

/// Runs the life of a meeting the room is in: churn and the host ending it.
pub(super) async fn animate(
    inner: Arc<Inner>,
    session: Session,
    meeting: SimMeeting,
    stop: CancellationToken,
) {
    let churn = async {
        let size = meeting.participants as usize;
        every_about(meeting.churn_ms, || async {
            if let Some(change) = inner.churn(session, size) {
                inner
                    .report(Some(session), Happening::Members(change))
                    .await;
            }
        })
        .await;
    };
    let waiting_churn = async {
        let size = meeting.waiting as usize;
        every_about(meeting.waiting_churn_ms, || async {
            if let Some(change) = inner.waiting_churn(session, size) {
                inner
                    .report(Some(session), Happening::Members(change))
                    .await;
            }
        })
        .await;
    };
    let host_ends = async {
        if meeting.host_ends_after_ms == 0 {
            return std::future::pending().await;
        }
        tokio::time::sleep(Duration::from_millis(meeting.host_ends_after_ms)).await;
    };
    tokio::select! {
        () = stop.cancelled() => {}
        () = churn => {}
        () = waiting_churn => {}
        () = host_ends => {
            inner.end_session(session);
            inner.report(Some(session), Happening::HostEnded).await;
        }
    }
}

/// Runs `step` about every `ms` (jittered ±50 %), forever; never with 0.
async fn every_about<F: Future<Output = ()>>(ms: u64, step: impl Fn() -> F) {
    if ms == 0 {
        return std::future::pending().await;
    }
    loop {
        let jitter = rand::rng().random_range(ms / 2..=ms * 3 / 2);
        tokio::time::sleep(Duration::from_millis(jitter)).await;
        step().await;
    }
}

/// Holds the room in the waiting room until the host admits it, then animates the meeting.
pub(super) async fn wait_for_admission(
    inner: Arc<Inner>,
    session: Session,
    meeting: SimMeeting,
    stop: CancellationToken,
) {
    tokio::select! {
        () = stop.cancelled() => return,
        () = tokio::time::sleep(Duration::from_millis(meeting.admit_after_ms)) => {}
    }
    let Some((people, waiting, user_id)) = inner.with_active(session, |a| {
        (
            a.participants.clone(),
            a.waiting.clone(),
            a.room_user_id.clone(),
        )
    }) else {
        return;
    };
    let details = inner.details(user_id, &meeting, people, waiting);
    inner
        .report(Some(session), Happening::Admitted(Box::new(details)))
        .await;
    animate(inner, session, meeting, stop).await;
}

/// The meetings a daemon with no configured meetings offers: one of each kind of behaviour.
pub(super) fn demo_meetings() -> Vec<SimMeeting> {
    let now = unix_now();
    let meeting = |code: &str, title: &str, offset_min: i64| SimMeeting {
        code: MeetingCode(code.into()),
        title: title.into(),
        begin_time: now + offset_min * 60,
        end_time: now + offset_min * 60 + 3600,
        ..SimMeeting::default()
    };
    vec![
        SimMeeting {
            churn_ms: 20_000,
            ..meeting("111222333", "Weekly sync", 0)
        },
        SimMeeting {
            password: "1234".into(),
            creator: "Bob".into(),
            ..meeting("222333444", "Board review", 30)
        },
        SimMeeting {
            waiting_room: true,
            admit_after_ms: 3000,
            participants: 12,
            ..meeting("333444555", "All hands", 60)
        },
        SimMeeting {
            locked: true,
            ..meeting("444555666", "Locked review", 90)
        },
        SimMeeting {
            room_is_host: true,
            participants: 1,
            ..meeting("555666777", "Room standup", 120)
        },
    ]
}
