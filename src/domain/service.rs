//! The meeting service as the room calls it: the port the adapters in `backend` implement.

use futures_util::future::BoxFuture;

use super::meeting::{
    BackendResult, ControlAction, JoinRequest, Joined, Media, MeetingDetails, ScheduledMeeting,
    Session, StartKind, StartRequest,
};
use super::profile::{Capability, Profile, cannot};
use crate::wire::Refusal;

/// A meeting service. Operations return `'static` futures so that the room's owner task can run
/// them on their own tasks and never wait for one.
///
/// What a service cannot do is declared in its [`Profile`] (`backend::SERVICES`), and the room
/// refuses it with code 9 before it reaches the adapter; the default methods answer the same
/// refusal, so an adapter only writes what its service can do.
pub trait Backend: Send + Sync {
    /// The service's declaration (its adapter's `PROFILE`): its name, what it can do, its code
    /// rule. The default methods name the service from it.
    fn profile(&self) -> Profile;
    fn start(&self, request: StartRequest) -> BoxFuture<'static, BackendResult<MeetingDetails>> {
        let capability = match request.kind {
            StartKind::Instant => Capability::StartInstant,
            StartKind::Pmi => Capability::StartPmi,
        };
        refused(cannot(self.profile().service, capability))
    }
    fn join(&self, request: JoinRequest) -> BoxFuture<'static, BackendResult<Joined>>;
    /// Leave the meeting or the waiting room. A service without a leave call
    /// ([`Capability::Leave`] not declared) keeps the default: the room's media client hangs up
    /// on its own, the adapter stops following the meeting ([`Backend::forget`]), and the room
    /// is out.
    fn leave(&self, session: Session) -> BoxFuture<'static, BackendResult<()>> {
        self.forget(session);
        Box::pin(async { Ok(()) })
    }
    /// End the meeting for everyone.
    fn dissolve(&self, session: Session) -> BoxFuture<'static, BackendResult<()>> {
        let _ = session;
        refused(cannot(self.profile().service, Capability::Dissolve))
    }
    fn meeting_list(&self) -> BoxFuture<'static, BackendResult<Vec<ScheduledMeeting>>> {
        refused(cannot(self.profile().service, Capability::MeetingList))
    }
    /// Tell the meeting that the room's microphone or camera changed.
    fn set_media(&self, session: Session, media: Media) -> BoxFuture<'static, BackendResult<()>> {
        let _ = (session, media);
        refused(cannot(self.profile().service, Capability::Media))
    }
    /// Carry out a MeetingControl action. What it changes comes back as reports
    /// ([`Happening::Participants`], [`Happening::Recording`]).
    fn control(
        &self,
        session: Session,
        action: ControlAction,
    ) -> BoxFuture<'static, BackendResult<()>> {
        let _ = session;
        refused(cannot(
            self.profile().service,
            Profile::capability_of(&action),
        ))
    }

    /// Stop following `session` (its polls, what is kept about it): the room is out of it
    /// without the service having been told. The default keeps nothing.
    fn forget(&self, session: Session) {
        let _ = session;
    }

    /// The room has given `session` up without ever showing it as a meeting: its start or join
    /// failed, timed out or was cut short by a shutdown, or it is a meeting [`reconcile`] found
    /// that the room did not adopt. Stop following it, and undo what it did on the service (a
    /// terminal dialled into a conference is hung up). The future ends once that is done, or
    /// the service says there is nothing to undo; it retries on its own while the service
    /// cannot be reached, so the room runs it without a timeout. An adapter whose attempts
    /// leave nothing behind keeps the default, which does nothing.
    ///
    /// [`reconcile`]: Backend::reconcile
    fn abandon(&self, session: Session) -> BoxFuture<'static, ()> {
        let _ = session;
        Box::pin(async {})
    }

    /// Whether the room is in a meeting on the service that it is not following (it was in it
    /// before the daemon restarted, or when the service went away): that meeting, which the
    /// adapter follows from now on as `session`, or `None`. The default knows of none.
    fn reconcile(
        &self,
        session: Session,
    ) -> BoxFuture<'static, BackendResult<Option<MeetingDetails>>> {
        let _ = session;
        Box::pin(async { Ok(None) })
    }
}

/// An operation answered at once with `refusal`.
fn refused<T: Send + 'static>(refusal: Refusal) -> BoxFuture<'static, BackendResult<T>> {
    Box::pin(async move { Err(refusal) })
}
