//! The meeting service of the property tests: it answers any call the room makes at once, as
//! the step says (success or failure, waiting room or not, the room's role and company).

use futures_util::FutureExt;
use futures_util::future::BoxFuture;

use super::machine::Signal;
use super::test_support::details;
use super::{BackendCall, Completed};
use crate::domain::{
    Backend, BackendResult, ControlAction, JoinRequest, Joined, Media, MeetingDetails, RoomRole,
    ScheduledMeeting, Session, StartRequest,
};
use crate::wire::{ErrorCode, Refusal};

struct Scripted {
    ok: bool,
    waiting_room: bool,
    meeting: MeetingDetails,
}

fn failure() -> Refusal {
    Refusal::new(ErrorCode::JOIN_FAILED, "the service says no")
}

fn ready<T: Send + 'static>(answer: BackendResult<T>) -> BoxFuture<'static, BackendResult<T>> {
    Box::pin(async move { answer })
}

impl Scripted {
    fn done(&self) -> BoxFuture<'static, BackendResult<()>> {
        ready(if self.ok { Ok(()) } else { Err(failure()) })
    }
}

impl Backend for Scripted {
    fn profile(&self) -> crate::domain::Profile {
        crate::domain::Profile {
            service: "scripted",
            ..crate::backend::sim::PROFILE
        }
    }
    fn start(&self, _: StartRequest) -> BoxFuture<'static, BackendResult<MeetingDetails>> {
        ready(if self.ok {
            Ok(self.meeting.clone())
        } else {
            Err(failure())
        })
    }
    fn join(&self, _: JoinRequest) -> BoxFuture<'static, BackendResult<Joined>> {
        ready(match (self.ok, self.waiting_room) {
            (false, _) => Err(failure()),
            (true, true) => Ok(Joined::WaitingRoom(self.meeting.clone())),
            (true, false) => Ok(Joined::InMeeting(self.meeting.clone())),
        })
    }
    fn leave(&self, _: Session) -> BoxFuture<'static, BackendResult<()>> {
        self.done()
    }
    fn dissolve(&self, _: Session) -> BoxFuture<'static, BackendResult<()>> {
        self.done()
    }
    fn meeting_list(&self) -> BoxFuture<'static, BackendResult<Vec<ScheduledMeeting>>> {
        ready(Ok(Vec::new()))
    }
    fn set_media(&self, _: Session, _: Media) -> BoxFuture<'static, BackendResult<()>> {
        self.done()
    }
    fn control(&self, _: Session, _: ControlAction) -> BoxFuture<'static, BackendResult<()>> {
        self.done()
    }
    /// Found (the caller tells whether the room adopts it), nothing, or no answer.
    fn reconcile(&self, _: Session) -> BoxFuture<'static, BackendResult<Option<MeetingDetails>>> {
        ready(match (self.ok, self.waiting_room) {
            (true, _) => Ok(Some(self.meeting.clone())),
            (false, true) => Ok(None),
            (false, false) => Err(failure()),
        })
    }
}

/// The service's answer to `call`, the session it is for, and the signal it is to the meeting
/// state machine.
pub fn answer(
    call: BackendCall,
    ok: bool,
    waiting_room: bool,
    role: RoomRole,
    others: usize,
) -> (Completed, Option<Session>, Option<Signal>) {
    let service = Scripted {
        ok,
        waiting_room,
        meeting: details(role, others),
    };
    let completed = call
        .run(&service, None)
        .now_or_never()
        .expect("the scripted service answers at once");
    let done = if ok { Signal::Done } else { Signal::Failed };
    let signal = match (call.name, ok, waiting_room) {
        ("start" | "join", false, _) => Some(Signal::Failed),
        ("join", true, true) => Some(Signal::Waiting),
        ("start" | "join", true, _) => Some(Signal::Entered),
        ("leave" | "dissolve", _, _) => Some(done),
        _ => None,
    };
    let session = signal.and(call.session);
    (completed, session, signal)
}
