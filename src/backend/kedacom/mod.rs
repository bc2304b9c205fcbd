//! The Kedacom video platform (BACKENDS.md): the room is one of its terminals, identified by
//! `kedacom.account` as `kedacom.account_type` says (E164, phone, IP or alias@ip). Meetings are
//! the platform's conferences:
//!
//! - start ([`start`]): create a conference (`create_type` 1 instant, or 4 from the room's
//!   virtual meeting room for "pmi") with the room's terminal invited and as chairman, dial
//!   it, and wait until it is online;
//! - join: add the terminal to the conference, dial it, wait until it is online; a booked
//!   meeting that has not begun is started first (`create_type` 5);
//! - leave: hang up; dissolve: end the conference;
//! - abandon (a start or join the room gave up): hang up what it dialled, retrying until the
//!   platform confirms; reconcile: the live conference the terminal is online in, if any
//!   ([`recover`]);
//! - in a meeting, the conference and its terminals are polled every `poll_ms`: who is there,
//!   who chairs, and whether the conference or the room's place in it is gone (the host ended
//!   it, or removed the room).
//!
//! [`api`] keeps the login alive; [`keepalive`] sends the heartbeats and refreshes the meeting
//! list ([`schedule`]: ongoing and booked meetings).

mod api;
mod config;
mod keepalive;
mod live;
pub mod model;
mod recover;
mod schedule;
mod start;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::future::BoxFuture;
use serde_json::{Value, json};
use tokio::sync::mpsc;
use tokio_util::sync::{CancellationToken, DropGuard};

use super::{
    Backend, BackendEvent, BackendResult, Capability, CodeRule, HealthTracker, JoinRequest, Joined,
    Media, MeetingDetails, Profile, RoomRole, ScheduledMeeting, Service, Session, StartRequest,
};
use crate::config::{Config, Section, SectionSpec};

use crate::domain::ControlAction;
use crate::wire::{ErrorCode, Refusal};
use api::{Api, Verb, conf_path, segment};
pub use config::{AccountType, ConfType, KedacomConfig, MaxJoinMt, TimeZone};
use live::Live;
use model::{Conference, RecorderStarted, Terminal, Terminals};
use recover::Placed;

/// The adapter. Dropping it stops its heartbeats and pollers.
pub struct Kedacom {
    inner: Arc<Inner>,
    _stop: DropGuard,
}

struct Inner {
    api: Api,
    config: KedacomConfig,
    room_name: String,
    events: mpsc::Sender<BackendEvent>,
    /// The conference of each meeting the room is in.
    live: Mutex<HashMap<Session, Arc<Live>>>,
    /// What each start or join placed on the platform, until the room is out of it: what
    /// abandoning it hangs up.
    placed: Mutex<HashMap<Session, Placed>>,
    /// The abandoned attempts being hung up, with their conference when known: reconciling
    /// must not take them for a meeting the room is in.
    abandoning: Mutex<HashMap<Session, Option<String>>>,
    stop: CancellationToken,
}

impl Kedacom {
    /// Starts logging in and keeping the session alive in the background: building never waits
    /// for the platform. Must be called inside a Tokio runtime.
    pub fn new(config: &Config, events: mpsc::Sender<BackendEvent>, health: HealthTracker) -> Self {
        let timeout = Duration::from_millis(config.backend.timeout_ms.0);
        let stop = CancellationToken::new();
        let section: KedacomConfig = config.services.get();
        let inner = Arc::new(Inner {
            api: Api::new(&section, timeout, health),
            config: section,
            room_name: config.room.name.clone(),
            events,
            live: Mutex::new(HashMap::new()),
            placed: Mutex::new(HashMap::new()),
            abandoning: Mutex::new(HashMap::new()),
            stop: stop.clone(),
        });
        tokio::spawn(keepalive::run(inner.clone()));
        Self {
            inner,
            _stop: stop.drop_guard(),
        }
    }
}

impl Inner {
    /// The room's terminal as the platform's member records name it.
    fn terminal(&self) -> Value {
        json!({
            "name": self.room_name,
            "account": self.config.account,
            "account_type": self.config.account_type.0,
        })
    }

    /// The room's terminal as a call target.
    fn call_target(&self) -> Value {
        json!({
            "name": self.room_name,
            "account": self.config.account,
            "account_type": self.config.account_type.0,
            "bitrate": self.config.bitrate,
            "protocol": self.config.protocol,
        })
    }

    /// What StartRecord asks the platform for: a recording (no live broadcast) of the
    /// conference with its shared content, unpublished; seed 004's `recorder` settings.
    fn recorder_params(&self) -> Value {
        let mut params = json!({
            "recorder_mode": 1,
            "publish_mode": 0,
            "dual_stream": 1,
            "anonymous": 0,
        });
        if !self.config.vrs_id.is_empty() {
            params["vrs_id"] = json!(self.config.vrs_id);
        }
        params
    }

    fn poll_every(&self) -> Duration {
        Duration::from_millis(self.config.poll_ms.0)
    }

    fn live(&self, session: Session) -> BackendResult<Arc<Live>> {
        self.live
            .lock()
            .expect("live lock")
            .get(&session)
            .cloned()
            .ok_or_else(|| Refusal::new(ErrorCode::NOT_IN_MEETING, "kedacom: not in a conference"))
    }

    /// Whether `terminal` is the room's.
    fn is_own(&self, terminal: &Terminal) -> bool {
        terminal.is(&self.config.account, self.config.account_type.0)
    }

    async fn join(self: Arc<Self>, request: JoinRequest) -> BackendResult<Joined> {
        let (conf_id, conference) = match self.api.get(&conf_path(&request.code), &[]).await {
            Ok(conference) => (request.code.clone(), conference),
            Err(refusal) if refusal.code == ErrorCode::NO_SUCH_MEETING => {
                self.start_booked(request.session, &request.code, &request.password, refusal)
                    .await?
            }
            Err(refusal) => return Err(refusal),
        };
        let conf_id = conf_id.as_str();
        // The management API admits a terminal without the password, and does not reveal it:
        // the room can only insist that one is given when the conference has one.
        if conference.need_password != 0 && request.password.is_empty() {
            return Err(Refusal::new(
                ErrorCode::PASSWORD_REQUIRED,
                format!("kedacom: conference {conf_id} needs a password"),
            ));
        }
        self.placing(request.session, Some(conf_id), None);
        let added: Terminals = self
            .api
            .write(
                Verb::Post,
                &format!("{}/mts", conf_path(conf_id)),
                Some(json!({"mts": [{
                    "account": self.config.account,
                    "account_type": self.config.account_type.0,
                    "bitrate": self.config.bitrate,
                    "protocol": self.config.protocol,
                    "forced_call": 0,
                }]})),
            )
            .await?;
        let mt_id = match added.mts.iter().find(|t| !t.mt_id.is_empty()) {
            Some(t) => t.mt_id.clone(),
            None => self.own_terminal(&self.terminals(conf_id).await?, conf_id)?,
        };
        self.placing(request.session, Some(conf_id), Some(&mt_id));
        self.dial(conf_id, &mt_id, Verb::Post).await?;
        let (_, terminals) = self.wait_until_online(conf_id, Some(&mt_id)).await?;
        let mut meeting = self.details(conf_id, &conference, &terminals, &mt_id).await;
        meeting.password = request.password;
        meeting.room_is_creator = conference.creator.account == self.config.account;
        self.enter(request.session, &meeting);
        Ok(Joined::InMeeting(meeting))
    }

    /// POST dials the terminal, DELETE hangs up.
    async fn dial(&self, conf_id: &str, mt_id: &str, verb: Verb) -> BackendResult<()> {
        let path = format!("{}/online_mts", conf_path(conf_id));
        let params = json!({"mts": [{"mt_id": mt_id}]});
        self.api
            .write::<Value>(verb, &path, Some(params))
            .await
            .map(drop)
    }

    /// The conference's terminals.
    async fn terminals(&self, conf_id: &str) -> BackendResult<Terminals> {
        let path = format!("{}/mts", conf_path(conf_id));
        self.api.get(&path, &[]).await
    }

    /// The terminal that chairs the conference; `""` if none does or the platform will not say.
    async fn chairman(&self, conf_id: &str) -> String {
        let path = format!("{}/chairman", conf_path(conf_id));
        let chairman: BackendResult<model::Chairman> = self.api.get(&path, &[]).await;
        chairman.unwrap_or_default().mt_id
    }

    /// The room's terminal among `terminals` of `conf_id`: its id.
    fn own_terminal(&self, terminals: &Terminals, conf_id: &str) -> BackendResult<String> {
        terminals
            .mts
            .iter()
            .find(|t| self.is_own(t))
            .map(|t| t.mt_id.clone())
            .ok_or_else(|| {
                Refusal::new(
                    ErrorCode::JOIN_FAILED,
                    format!(
                        "kedacom: terminal {} is not in conference {conf_id}",
                        self.config.account
                    ),
                )
            })
    }

    /// Polls until the room's terminal is online: its id, and the terminals as they then are.
    /// The daemon's `timeout_ms` bounds the wait (a terminal that does not answer the call).
    async fn wait_until_online(
        &self,
        conf_id: &str,
        mt_id: Option<&str>,
    ) -> BackendResult<(String, Terminals)> {
        let every = self.poll_every().min(Duration::from_secs(1));
        loop {
            let terminals = self.terminals(conf_id).await?;
            // The platform may list the invited terminal a moment after creating.
            let own = terminals.mts.iter().find(|t| self.is_own(t));
            if let Some(own) = own
                && own.online == 1
                && mt_id.is_none_or(|m| m == own.mt_id)
            {
                return Ok((own.mt_id.clone(), terminals));
            }
            tokio::time::sleep(every).await;
        }
    }

    /// The meeting as the room shows it, from the conference, its terminals and its chairman.
    async fn details(
        &self,
        conf_id: &str,
        conference: &Conference,
        terminals: &Terminals,
        mt_id: &str,
    ) -> MeetingDetails {
        let chairman = self.chairman(conf_id).await;
        let zone = self.config.time_zone.0;
        MeetingDetails {
            code: conf_id.to_owned(),
            meeting_id: conference.meeting_id.clone(),
            title: conference.name.clone(),
            password: String::new(),
            meeting_type: 0,
            creator_name: conference.creator.name.clone(),
            begin_time: model::unix_time(&conference.start_time, zone).unwrap_or(0),
            end_time: model::unix_time(&conference.end_time, zone).unwrap_or(0),
            url: String::new(),
            room_user_id: mt_id.to_owned(),
            room_role: if chairman == mt_id {
                RoomRole::Host
            } else {
                RoomRole::Attendee
            },
            room_is_creator: false,
            participants: terminals.others(mt_id, &chairman),
            waiting: Vec::new(),
            recording_allowed: true,
            recording: false,
        }
    }

    /// The room is in `meeting`: follow it until it leaves.
    fn enter(self: &Arc<Self>, session: Session, meeting: &MeetingDetails) {
        let stop = self.stop.child_token();
        let live = Arc::new(Live::new(&meeting.code, &meeting.room_user_id, stop));
        self.live
            .lock()
            .expect("live lock")
            .insert(session, live.clone());
        let known = meeting.participants.clone();
        tokio::spawn(live::follow(self.clone(), session, live, known));
    }

    /// The room is out of `session`'s meeting: stop following it.
    fn forget(&self, session: Session) {
        if let Some(live) = self.live.lock().expect("live lock").remove(&session) {
            live.stop.cancel();
        }
        self.placed.lock().expect("placed lock").remove(&session);
    }

    async fn leave(self: Arc<Self>, session: Session) -> BackendResult<()> {
        let Ok(live) = self.live(session) else {
            // Never got in (a join that timed out): nothing to hang up.
            return Ok(());
        };
        let _exiting = live.exiting();
        self.dial(&live.conf_id, &live.mt_id, Verb::Delete).await?;
        self.forget(session);
        Ok(())
    }

    async fn dissolve(self: Arc<Self>, session: Session) -> BackendResult<()> {
        let live = self.live(session)?;
        let _exiting = live.exiting();
        let path = format!("/api/v1/mc/confs/{}", segment(&live.conf_id));
        match self.api.write::<Value>(Verb::Delete, &path, None).await {
            Ok(_) => {}
            // Already over: what was asked for is done.
            Err(refusal) if refusal.code == ErrorCode::NO_SUCH_MEETING => {}
            Err(refusal) => return Err(refusal),
        }
        self.forget(session);
        Ok(())
    }

    async fn set_media(self: Arc<Self>, session: Session, media: Media) -> BackendResult<()> {
        let live = self.live(session)?;
        // The platform mutes the terminal's microphone; the camera is the room's own business.
        let path = format!(
            "{}/mts/{}/mute",
            conf_path(&live.conf_id),
            segment(&live.mt_id)
        );
        let params = json!({"value": i32::from(!media.mic_on)});
        self.api
            .write::<Value>(Verb::Put, &path, Some(params))
            .await
            .map(drop)
    }

    async fn control(
        self: Arc<Self>,
        session: Session,
        action: ControlAction,
    ) -> BackendResult<()> {
        let live = self.live(session)?;
        let conf = conf_path(&live.conf_id);
        let (verb, path, params) = match &action {
            ControlAction::MuteMember { user_id } => (
                Verb::Put,
                format!("{conf}/mts/{}/mute", segment(user_id)),
                json!({"value": 1}),
            ),
            ControlAction::MuteAll { .. } => {
                (Verb::Put, format!("{conf}/mute"), json!({"value": 1}))
            }
            ControlAction::RemoveMember { user_id, .. } => (
                Verb::Delete,
                format!("{conf}/mts"),
                json!({"mts": [{"mt_id": user_id}]}),
            ),
            // Asking is the room's own step (it keeps the request); recording starts with
            // StartRecord.
            ControlAction::RequestRecord => return Ok(()),
            ControlAction::StartRecord { .. } => {
                let started: RecorderStarted = self
                    .api
                    .write(
                        Verb::Post,
                        &format!("{conf}/recorders"),
                        Some(self.recorder_params()),
                    )
                    .await?;
                tracing::info!(conf_id = %live.conf_id, rec_id = %started.rec_id, "kedacom: recording");
                return Ok(());
            }
            ControlAction::StopVideo { .. } => {
                return Err(Refusal::new(
                    ErrorCode::UNSUPPORTED,
                    format!("kedacom: the control API has no {}", action.name()),
                ));
            }
        };
        self.api.write::<Value>(verb, &path, Some(params)).await?;
        // Show the change without waiting for the next poll.
        live.poke();
        Ok(())
    }
}

/// What the platform lets the room do: everything but stopping a participant's video, which
/// its control API has no call for. Meeting codes are dialled numbers.
pub const PROFILE: Profile = Profile {
    service: KedacomConfig::NAME,
    capabilities: &[
        Capability::StartInstant,
        Capability::StartPmi,
        Capability::Join,
        Capability::Leave,
        Capability::Dissolve,
        Capability::MemberList,
        Capability::Mute,
        Capability::RemoveMember,
        Capability::Recording,
        Capability::MeetingList,
        Capability::EndDetection,
        Capability::Media,
    ],
    code_rule: CodeRule::Digits,
};

/// Kedacom as `backend::SERVICES` lists it.
pub const SERVICE: Service = Service {
    profile: PROFILE,
    section: SectionSpec::of::<KedacomConfig>(),
    build: |config, events, health| Arc::new(Kedacom::new(config, events, health)),
};

impl Backend for Kedacom {
    fn profile(&self) -> Profile {
        PROFILE
    }

    fn start(&self, request: StartRequest) -> BoxFuture<'static, BackendResult<MeetingDetails>> {
        Box::pin(self.inner.clone().start(request))
    }

    fn join(&self, request: JoinRequest) -> BoxFuture<'static, BackendResult<Joined>> {
        Box::pin(self.inner.clone().join(request))
    }

    fn leave(&self, session: Session) -> BoxFuture<'static, BackendResult<()>> {
        Box::pin(self.inner.clone().leave(session))
    }

    fn dissolve(&self, session: Session) -> BoxFuture<'static, BackendResult<()>> {
        Box::pin(self.inner.clone().dissolve(session))
    }

    fn meeting_list(&self) -> BoxFuture<'static, BackendResult<Vec<ScheduledMeeting>>> {
        Box::pin(self.inner.clone().meeting_list())
    }

    fn set_media(&self, session: Session, media: Media) -> BoxFuture<'static, BackendResult<()>> {
        Box::pin(self.inner.clone().set_media(session, media))
    }

    fn control(
        &self,
        session: Session,
        action: ControlAction,
    ) -> BoxFuture<'static, BackendResult<()>> {
        Box::pin(self.inner.clone().control(session, action))
    }

    fn abandon(&self, session: Session) -> BoxFuture<'static, ()> {
        Box::pin(self.inner.clone().abandon(session))
    }

    fn reconcile(
        &self,
        session: Session,
    ) -> BoxFuture<'static, BackendResult<Option<MeetingDetails>>> {
        Box::pin(self.inner.clone().reconcile(session))
    }
}
