//! The embedded simulator: a meeting service that lives inside the daemon, so that roomsd is
//! useful with no service at all (demos, panel development, tests, fault rehearsal). It behaves
//! like a service, not like canned success: meetings that do not exist, passwords, locks,
//! waiting rooms, people coming and going, hosts ending meetings, and injected faults.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::future::BoxFuture;
use rand::Rng;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

mod config;
mod life;

pub use config::{MeetingCode, SimConfig, SimMeeting};

use super::{
    Backend, BackendEvent, BackendResult, Capability, CodeRule, Happening, HealthTracker,
    JoinRequest, Joined, Media, MeetingDetails, MemberChanges, Participant, Profile, RoomRole,
    ScheduledMeeting, Service, Session, StartRequest,
};
use crate::config::{Config, Section, SectionSpec};
use crate::domain::ControlAction;
use crate::domain::StartKind;
use crate::wire::{ErrorCode, Refusal};
use life::{animate, demo_meetings, no_meeting, wait_for_admission};

/// The simulator as a [`Backend`]. Cheap to clone: every clone is the same service.
#[derive(Clone)]
pub struct Simulator {
    inner: Arc<Inner>,
}

struct Inner {
    room_name: String,
    pmi_code: String,
    settings: SimConfig,
    /// The meetings that exist, with their times resolved.
    directory: Vec<SimMeeting>,
    events: mpsc::Sender<BackendEvent>,
    health: HealthTracker,
    reachable: AtomicBool,
    next_user: AtomicU64,
    /// Starts and joins so far: the room's user id in each meeting is `room-<n>`.
    attempts: AtomicU64,
    active: Mutex<Option<Active>>,
}

/// The meeting the room is in or waiting for, and the timers that animate it.
struct Active {
    session: Session,
    room_user_id: String,
    participants: Vec<Participant>,
    waiting: Vec<Participant>,
    room_role: RoomRole,
    /// The room's microphone and camera as the meeting sees them.
    media: Media,
    /// Cancels this meeting's timers when the room is out of it.
    stop: CancellationToken,
}

/// The simulator can do everything, and takes dial-pad codes like the services it stands for.
pub const PROFILE: Profile = Profile {
    service: SimConfig::NAME,
    capabilities: &Capability::ALL,
    code_rule: CodeRule::Digits,
};

/// The simulator as `backend::SERVICES` lists it.
pub const SERVICE: Service = Service {
    profile: PROFILE,
    section: SectionSpec::of::<SimConfig>(),
    build: |config, events, health| Arc::new(Simulator::new(config, events, health)),
};

/// How long the simulated host takes to answer a non-host's recording request.
const HOST_ANSWERS_AFTER: Duration = Duration::from_millis(500);

const NAMES: &[&str] = &[
    "Alice", "Bob", "Carol", "Dave", "Erin", "Frank", "Grace", "Heidi", "Ivan", "Judy",
];

impl Simulator {
    /// A simulator with the configured meetings, or the built-in demo meetings when there are
    /// none. Must be called inside a Tokio runtime when `disconnect_after_ms` is set.
    pub fn new(config: &Config, events: mpsc::Sender<BackendEvent>, health: HealthTracker) -> Self {
        let now = unix_now();
        let mut settings: SimConfig = config.services.get();
        let meetings = if settings.meetings.is_empty() {
            demo_meetings()
        } else {
            std::mem::take(&mut settings.meetings)
        };
        let directory = meetings
            .into_iter()
            .map(|mut m| {
                if m.begin_time == 0 {
                    m.begin_time = now;
                }
                if m.end_time == 0 {
                    m.end_time = m.begin_time + 3600;
                }
                m
            })
            .collect();
        let sim = Self {
            inner: Arc::new(Inner {
                room_name: config.room.name.clone(),
                pmi_code: config.room.pmi_code.clone(),
                settings,
                directory,
                events,
                health,
                reachable: AtomicBool::new(true),
                next_user: AtomicU64::new(1),
                attempts: AtomicU64::new(0),
                active: Mutex::new(None),
            }),
        };
        if sim.inner.settings.disconnect_after_ms > 0 {
            tokio::spawn(sim.clone().outages());
        }
        sim
    }

    /// Fault injection: the service goes away, and maybe comes back.
    async fn outages(self) {
        let settings = &self.inner.settings;
        tokio::time::sleep(Duration::from_millis(settings.disconnect_after_ms)).await;
        self.inner.reachable.store(false, Ordering::SeqCst);
        self.inner.end_active();
        tracing::warn!("simulator: the meeting service is now unreachable (fault injection)");
        self.inner
            .health
            .disconnected("simulated outage (sim.disconnect_after_ms)");
        if settings.reconnect_after_ms > 0 {
            tokio::time::sleep(Duration::from_millis(settings.reconnect_after_ms)).await;
            self.inner.reachable.store(true, Ordering::SeqCst);
            tracing::info!("simulator: the meeting service is reachable again");
            self.inner.health.answered(Duration::ZERO);
        }
    }
}

impl Inner {
    /// What every request to the service goes through: its delay and the injected faults.
    ///
    /// It feeds the health as an adapter's exchanges do: an answer refreshes `last_ok_at` and
    /// `latency_ms` (the whole round trip, work and added latency). An injected
    /// `failure_rate` failure is recorded as the last error but does not count towards the
    /// service being gone: it rehearses one operation failing, while `disconnect_after_ms`
    /// rehearses an outage. A hang records nothing, as a request still under way would not.
    async fn round_trip(&self, work_ms: u64) -> BackendResult<()> {
        let started = std::time::Instant::now();
        let delay = work_ms + self.settings.latency_ms;
        tokio::time::sleep(Duration::from_millis(delay)).await;
        if self.settings.hang {
            std::future::pending::<()>().await;
        }
        if !self.reachable.load(Ordering::SeqCst) {
            return Err(Refusal::new(
                ErrorCode::NETWORK,
                "simulator: the meeting service is unreachable",
            ));
        }
        if self.settings.failure_rate.0 > 0.0
            && rand::rng().random_bool(self.settings.failure_rate.0)
        {
            let refusal = Refusal::new(ErrorCode::NETWORK, "simulator: injected network failure");
            self.health.failed_once(&refusal.message);
            return Err(refusal);
        }
        self.health.answered(started.elapsed());
        Ok(())
    }

    async fn report(&self, session: Option<Session>, happening: Happening) {
        // The receiver is gone only when the daemon is shutting down.
        let _ = self.events.send(BackendEvent { session, happening }).await;
    }

    fn new_user_id(&self) -> String {
        format!("u{}", self.next_user.fetch_add(1, Ordering::Relaxed))
    }

    fn participant(&self, nickname: &str, host: bool) -> Participant {
        Participant {
            user_id: self.new_user_id(),
            nickname: nickname.to_owned(),
            host,
            co_host: false,
            audio_on: true,
            video_on: true,
        }
    }

    /// A nickname nobody in the meeting has yet.
    fn fresh_nickname(&self, taken: &[Participant]) -> String {
        // In a crowd the names are long taken, and looking costs names × people per newcomer.
        if taken.len() > NAMES.len() * 4 {
            return format!("Guest {}", self.next_user.load(Ordering::Relaxed));
        }
        let free = NAMES
            .iter()
            .find(|n| !taken.iter().any(|p| p.nickname == **n));
        match free {
            Some(name) => (*name).to_owned(),
            None => format!("Guest {}", self.next_user.load(Ordering::Relaxed)),
        }
    }

    fn waiting_of(&self, meeting: &SimMeeting, present: &[Participant]) -> Vec<Participant> {
        let mut people: Vec<Participant> = Vec::new();
        for _ in 0..meeting.waiting {
            let taken: Vec<Participant> = present.iter().chain(&people).cloned().collect();
            let nickname = self.fresh_nickname(&taken);
            people.push(self.participant(&nickname, false));
        }
        people
    }

    fn people_of(&self, meeting: &SimMeeting) -> Vec<Participant> {
        let mut people = Vec::new();
        for i in 0..meeting.participants {
            let host = i == 0 && meeting.host_present && !meeting.room_is_host;
            let nickname = if host {
                meeting.creator.clone()
            } else {
                self.fresh_nickname(&people)
            };
            people.push(self.participant(&nickname, host));
        }
        people
    }

    /// The room's user id in the meeting of the next start or join.
    fn next_room_user_id(&self) -> String {
        format!("room-{}", self.attempts.fetch_add(1, Ordering::Relaxed) + 1)
    }

    fn details(
        &self,
        room_user_id: String,
        meeting: &SimMeeting,
        participants: Vec<Participant>,
        waiting: Vec<Participant>,
    ) -> MeetingDetails {
        MeetingDetails {
            code: meeting.code.0.clone(),
            meeting_id: format!("sim-{}", meeting.code.0),
            title: meeting.title.clone(),
            password: meeting.password.clone(),
            meeting_type: 0,
            creator_name: meeting.creator.clone(),
            begin_time: meeting.begin_time,
            end_time: meeting.end_time,
            url: format!("sim://meeting/{}", meeting.code.0),
            room_user_id,
            room_role: if meeting.room_is_host {
                RoomRole::Host
            } else {
                RoomRole::Attendee
            },
            room_is_creator: false,
            participants,
            waiting,
            recording_allowed: meeting.recording_allowed,
            recording: false,
        }
    }

    /// Makes `details` (for `session`) the active meeting, ending the timers of any earlier
    /// one.
    fn activate(
        &self,
        session: Session,
        details: &MeetingDetails,
        media: Media,
    ) -> CancellationToken {
        let stop = CancellationToken::new();
        let previous = self.active.lock().unwrap().replace(Active {
            session,
            room_user_id: details.room_user_id.clone(),
            participants: details.participants.clone(),
            waiting: details.waiting.clone(),
            room_role: details.room_role,
            media,
            stop: stop.clone(),
        });
        if let Some(previous) = previous {
            previous.stop.cancel();
        }
        stop
    }

    fn end_active(&self) {
        if let Some(active) = self.active.lock().unwrap().take() {
            active.stop.cancel();
        }
    }

    fn end_session(&self, session: Session) {
        let mut active = self.active.lock().unwrap();
        if active.as_ref().is_some_and(|a| a.session == session) {
            active.take().unwrap().stop.cancel();
        }
    }

    /// Runs `f` on the active meeting, if it is still `session`'s.
    fn with_active<T>(&self, session: Session, f: impl FnOnce(&mut Active) -> T) -> Option<T> {
        let mut active = self.active.lock().unwrap();
        active.as_mut().filter(|a| a.session == session).map(f)
    }

    /// One churn step: somebody joins, or a non-host leaves, the meeting staying about `size`
    /// (at least 8). Reported as that change, as a service with member events would.
    fn churn(&self, session: Session, size: usize) -> Option<MemberChanges> {
        self.with_active(session, |active| self.churn_step(active, size))
    }

    fn churn_step(&self, active: &mut Active, size: usize) -> MemberChanges {
        let people = &mut active.participants;
        let mut rng = rand::rng();
        let below = people.len() < size.max(8);
        let mut change = MemberChanges::default();
        // A non-host, found by trying random places: the hosts are few.
        let leaver = (0..8)
            .map(|_| rng.random_range(0..people.len().max(1)))
            .find(|&i| people.get(i).is_some_and(|p| !p.host));
        match leaver {
            Some(i) if !(below && rng.random_bool(0.5)) => {
                change.left.push(people.remove(i).user_id);
            }
            _ => {
                let nickname = self.fresh_nickname(people);
                let newcomer = self.participant(&nickname, false);
                people.push(newcomer.clone());
                change.joined.push(newcomer);
            }
        }
        change
    }

    /// One step of waiting-room traffic: somebody arrives, or the longest waiting leaves, the
    /// waiting room staying about `size` (at least 1).
    fn waiting_churn(&self, session: Session, size: usize) -> Option<MemberChanges> {
        self.with_active(session, |active| {
            let below = active.waiting.len() < size.max(1);
            let mut change = MemberChanges {
                waiting_room: true,
                ..MemberChanges::default()
            };
            if active.waiting.is_empty() || (below && rand::rng().random_bool(0.5)) {
                let nickname = self.fresh_nickname(&active.waiting);
                let newcomer = self.participant(&nickname, false);
                active.waiting.push(newcomer.clone());
                change.joined.push(newcomer);
            } else {
                change.left.push(active.waiting.remove(0).user_id);
            }
            change
        })
    }
}

impl Backend for Simulator {
    fn profile(&self) -> Profile {
        PROFILE
    }

    /// A start or join the room gave up may have got in just before: it is left.
    fn abandon(&self, session: Session) -> BoxFuture<'static, ()> {
        self.inner.end_session(session);
        Box::pin(async {})
    }

    fn start(&self, request: StartRequest) -> BoxFuture<'static, BackendResult<MeetingDetails>> {
        let inner = self.inner.clone();
        Box::pin(async move {
            let user_id = inner.next_room_user_id();
            inner.round_trip(inner.settings.join_delay_ms).await?;
            let (code, title) = match request.kind {
                StartKind::Instant => {
                    let code = rand::rng()
                        .random_range(100_000_000..1_000_000_000u32)
                        .to_string();
                    (code, format!("{}的快速会议", inner.room_name))
                }
                StartKind::Pmi if inner.pmi_code.is_empty() => {
                    return Err(Refusal::new(
                        ErrorCode::INSTANT_NOT_ALLOWED,
                        "simulator: the room has no personal meeting code (room.pmi_code)",
                    ));
                }
                StartKind::Pmi => (
                    inner.pmi_code.clone(),
                    format!("{}的个人会议室", inner.room_name),
                ),
            };
            let now = unix_now();
            let meeting = SimMeeting {
                code: MeetingCode(code),
                title,
                participants: 0,
                creator: inner.room_name.clone(),
                room_is_host: true,
                begin_time: now,
                end_time: now + 3600,
                ..SimMeeting::default()
            };
            let mut details = inner.details(user_id, &meeting, Vec::new(), Vec::new());
            details.room_is_creator = true;
            inner.activate(request.session, &details, request.media);
            Ok(details)
        })
    }

    fn join(&self, request: JoinRequest) -> BoxFuture<'static, BackendResult<Joined>> {
        let inner = self.inner.clone();
        Box::pin(async move {
            let user_id = inner.next_room_user_id();
            inner.round_trip(inner.settings.join_delay_ms).await?;
            let Some(meeting) = inner
                .directory
                .iter()
                .find(|m| m.code.0 == request.code)
                .cloned()
            else {
                return Err(Refusal::new(
                    ErrorCode::NO_SUCH_MEETING,
                    format!("meeting {} does not exist", request.code),
                ));
            };
            if meeting.locked {
                return Err(Refusal::new(
                    ErrorCode::MEETING_LOCKED,
                    format!("meeting {} is locked", meeting.code.0),
                ));
            }
            if !meeting.password.is_empty() && request.password.is_empty() {
                return Err(Refusal::new(
                    ErrorCode::PASSWORD_REQUIRED,
                    format!("meeting {} needs a password", meeting.code.0),
                ));
            }
            if !meeting.password.is_empty() && request.password != meeting.password {
                return Err(Refusal::new(
                    ErrorCode::WRONG_PASSWORD,
                    format!("wrong password for meeting {}", meeting.code.0),
                ));
            }
            let people = inner.people_of(&meeting);
            let waiting = inner.waiting_of(&meeting, &people);
            let details = inner.details(user_id, &meeting, people, waiting);
            let stop = inner.activate(request.session, &details, request.media);
            if meeting.waiting_room {
                if meeting.admit_after_ms > 0 {
                    tokio::spawn(wait_for_admission(
                        inner.clone(),
                        request.session,
                        meeting,
                        stop,
                    ));
                }
                Ok(Joined::WaitingRoom(details))
            } else {
                tokio::spawn(animate(inner.clone(), request.session, meeting, stop));
                Ok(Joined::InMeeting(details))
            }
        })
    }

    fn leave(&self, session: Session) -> BoxFuture<'static, BackendResult<()>> {
        let inner = self.inner.clone();
        Box::pin(async move {
            inner.round_trip(0).await?;
            inner.end_session(session);
            Ok(())
        })
    }

    fn dissolve(&self, session: Session) -> BoxFuture<'static, BackendResult<()>> {
        self.leave(session)
    }

    fn meeting_list(&self) -> BoxFuture<'static, BackendResult<Vec<ScheduledMeeting>>> {
        let inner = self.inner.clone();
        Box::pin(async move {
            inner.round_trip(0).await?;
            let mut list: Vec<ScheduledMeeting> = inner
                .directory
                .iter()
                .map(|m| ScheduledMeeting {
                    title: m.title.clone(),
                    code: m.code.0.clone(),
                    meeting_id: format!("sim-{}", m.code.0),
                    meeting_type: 0,
                    creator_name: m.creator.clone(),
                    begin_time: m.begin_time,
                    end_time: m.end_time,
                })
                .collect();
            list.sort_by_key(|m| m.begin_time);
            Ok(list)
        })
    }

    fn set_media(&self, session: Session, media: Media) -> BoxFuture<'static, BackendResult<()>> {
        let inner = self.inner.clone();
        Box::pin(async move {
            inner.round_trip(0).await?;
            inner
                .with_active(session, |active| active.media = media)
                .ok_or_else(no_meeting)?;
            tracing::debug!(?media, "simulator: the room's media changed");
            Ok(())
        })
    }

    fn control(
        &self,
        session: Session,
        action: ControlAction,
    ) -> BoxFuture<'static, BackendResult<()>> {
        let inner = self.inner.clone();
        Box::pin(async move {
            inner.round_trip(0).await?;
            let (report, host_asked) = inner.carry_out(session, &action)?;
            if let Some(happening) = report {
                inner.report(Some(session), happening).await;
            }
            if host_asked {
                tokio::spawn(async move {
                    tokio::time::sleep(HOST_ANSWERS_AFTER).await;
                    // The host grants the request, if the room is still in the meeting.
                    if inner.with_active(session, |_| ()).is_some() {
                        inner
                            .report(Some(session), Happening::Recording(true))
                            .await;
                    }
                });
            }
            Ok(())
        })
    }
}

pub(crate) fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}
