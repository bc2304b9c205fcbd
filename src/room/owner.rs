//! The task that owns the [`Room`]: it applies clients' commands, backend answers and backend
//! reports one at a time, publishes the new [`Snapshot`] and the events, and runs backend
//! operations on tasks of their own so that nothing ever waits for a service.
//!
//! Ordering: a command's snapshot and events are published before its acknowledgement is sent,
//! so a client that gets the ack and then queries sees the new state, and gets the ack before
//! the events it caused (its connection handles the ack first).

use std::collections::HashMap;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::Duration;

use futures_util::FutureExt;

use serde_json::Value;
use tokio::sync::{broadcast, mpsc, oneshot, watch};
use tokio::task::{AbortHandle, JoinHandle};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use super::device::DeviceSettings;
pub use super::history::EventFrame;
use super::history::{EventLog, History, HistoryLimits, new_epoch};
use super::snapshot::Snapshot;
use super::{BackendCall, Command, Completed, Effect, Event, Phase, Room};
use crate::domain::{Backend, BackendEvent, BackendResult, Health, Session};
use crate::wire::{self, ErrorCode, Refusal};

/// What a command gets: the data a synchronous action answers with, or why it was refused.
pub type CallResult = Result<Option<Value>, Refusal>;

/// How the rest of the daemon talks to the room. Cheap to clone.
#[derive(Clone)]
pub struct RoomHandle {
    commands: mpsc::Sender<(Command, oneshot::Sender<CallResult>)>,
    snapshot: watch::Receiver<Arc<Snapshot>>,
    events: EventLog,
}

impl RoomHandle {
    /// Applies a command; `Ok` once it is accepted, with the data of a synchronous action (the
    /// outcome of an asynchronous one comes as events).
    pub async fn call(&self, command: Command) -> CallResult {
        let gone = || Refusal::new(ErrorCode::FAIL, "the daemon is shutting down");
        let (reply, answer) = oneshot::channel();
        self.commands
            .send((command, reply))
            .await
            .map_err(|_| gone())?;
        answer.await.map_err(|_| gone())?
    }

    /// The current state, as prepared bytes.
    pub fn snapshot(&self) -> Arc<Snapshot> {
        self.snapshot.borrow().clone()
    }

    /// The snapshot as it changes: the fleet link publishes each new state with it.
    pub fn watch_snapshot(&self) -> watch::Receiver<Arc<Snapshot>> {
        self.snapshot.clone()
    }

    /// A receiver of every event published from now on.
    pub fn subscribe_events(&self) -> broadcast::Receiver<EventFrame> {
        self.events.subscribe().0
    }

    /// The same, with the number of the last event it will not deliver.
    pub fn subscribe_events_at(&self) -> (broadcast::Receiver<EventFrame>, u64) {
        self.events.subscribe()
    }

    /// The published events and their sequence, for subscribing with `since`.
    pub fn events(&self) -> &EventLog {
        &self.events
    }
}

/// Something the owner's loop calls regularly, to prove it is still taking steps (systemd's
/// watchdog: a stuck owner stops the pings and gets the service restarted).
pub struct Heartbeat {
    pub every: Duration,
    pub beat: Box<dyn FnMut() + Send>,
}

/// Settings of the owner task.
pub struct OwnerSettings {
    /// Every backend operation ends within this.
    pub backend_timeout: Duration,
    /// Events buffered for connections that are momentarily behind.
    pub event_capacity: usize,
    /// The events kept for clients that resume (`[events]`).
    pub history: HistoryLimits,
    /// Where the device settings go when they change, to be saved.
    pub device_settings: watch::Sender<DeviceSettings>,
    pub heartbeat: Option<Heartbeat>,
}

/// What the room hears about besides its clients' commands.
pub struct Inputs {
    /// What the backend reports on its own.
    pub reports: mpsc::Receiver<BackendEvent>,
    /// The connected display outputs, when hot-plug is followed.
    pub displays: Option<watch::Receiver<Vec<String>>>,
    /// The meeting service's health, as the backend records it.
    pub health: watch::Receiver<Health>,
}

/// Starts the owner task. It stops when `shutdown` is cancelled, abandons a start or join still
/// under way, then waits (up to the backend timeout) for backend operations under way.
pub fn spawn(
    room: Room,
    backend: Arc<dyn Backend>,
    inputs: Inputs,
    settings: OwnerSettings,
    shutdown: CancellationToken,
) -> (RoomHandle, JoinHandle<()>) {
    let (commands_tx, commands) = mpsc::channel(64);
    let (completed_tx, completed) = mpsc::channel(64);
    let mut room = room;
    let (snapshot_tx, snapshot) = watch::channel(Arc::new(room.snapshot()));
    let events = EventLog::new(
        History::new(new_epoch(), settings.history),
        settings.event_capacity,
    );
    let handle = RoomHandle {
        commands: commands_tx,
        snapshot,
        events: events.clone(),
    };
    let owner = Owner {
        room,
        backend,
        timeout: settings.backend_timeout,
        completed_tx,
        snapshot_tx,
        events,
        device_settings: settings.device_settings,
        in_flight: TaskTracker::new(),
        attempts: HashMap::new(),
        heartbeat: settings.heartbeat,
        members_due: None,
    };
    let task = tokio::spawn(owner.run(commands, completed, inputs, shutdown));
    (handle, task)
}

struct Owner {
    room: Room,
    backend: Arc<dyn Backend>,
    timeout: Duration,
    completed_tx: mpsc::Sender<Completed>,
    snapshot_tx: watch::Sender<Arc<Snapshot>>,
    events: EventLog,
    device_settings: watch::Sender<DeviceSettings>,
    in_flight: TaskTracker,
    /// The start or join of each attempt still running, to cut short when it is abandoned.
    attempts: HashMap<Session, AbortHandle>,
    heartbeat: Option<Heartbeat>,
    /// When the member changes gathered so far are announced (`members.coalesce_ms`).
    members_due: Option<tokio::time::Instant>,
}

impl Owner {
    async fn run(
        mut self,
        mut commands: mpsc::Receiver<(Command, oneshot::Sender<CallResult>)>,
        mut completed: mpsc::Receiver<Completed>,
        inputs: Inputs,
        shutdown: CancellationToken,
    ) {
        let Inputs {
            mut reports,
            mut displays,
            health,
        } = inputs;
        let mut health = Some(health);
        let mut beats = self.heartbeat.as_ref().map(|h| {
            let mut beats = tokio::time::interval(h.every);
            beats.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            beats
        });
        let effects = self.room.started();
        self.commit(effects);
        loop {
            tokio::select! {
                () = shutdown.cancelled() => break,
                Some((command, reply)) = commands.recv() => {
                    let result = self.room.apply(command).map(|effects| self.commit(effects));
                    // The client may have gone; its command still took effect.
                    let _ = reply.send(result);
                }
                Some(done) = completed.recv() => {
                    if let (true, Some(session)) = (done.attempt, done.session) {
                        self.attempts.remove(&session);
                    }
                    let effects = self.room.complete(done);
                    self.commit(effects);
                }
                Some(report) = reports.recv() => {
                    let effects = self.room.happen(report);
                    self.commit(effects);
                }
                Some(connected) = next_change(&mut displays) => {
                    let effects = self.room.displays_changed(&connected);
                    self.commit(effects);
                }
                Some(now) = next_change(&mut health) => {
                    let effects = self.room.health_changed(&now);
                    self.commit(effects);
                }
                () = until(self.members_due) => {
                    self.members_due = None;
                    // Only an event: the snapshot already shows the members.
                    if let Some(Effect::Publish(event)) = self.room.announce_members() {
                        self.publish(&event);
                    }
                }
                () = next_beat(&mut beats) => {
                    if let Some(heartbeat) = &mut self.heartbeat {
                        (heartbeat.beat)();
                    }
                }
            }
        }
        // The room will not see this attempt's answer: whatever it dialled is hung up.
        if let Phase::Joining { session, .. } = self.room.phase() {
            let session = *session;
            self.abandon(session);
        }
        self.in_flight.close();
        if tokio::time::timeout(self.timeout, self.in_flight.wait())
            .await
            .is_err()
        {
            tracing::warn!("backend operations still under way at shutdown were abandoned");
        }
    }

    /// Publishes the new state, then the events, then starts the backend operations. Returns
    /// the data for the acknowledgement, if the action has any.
    fn commit(&mut self, effects: Vec<Effect>) -> Option<Value> {
        self.snapshot_tx
            .send_replace(Arc::new(self.room.snapshot()));
        let mut reply = None;
        for effect in effects {
            match effect {
                Effect::Publish(event) => self.publish(&event),
                Effect::Run(call) => self.run_call(call),
                Effect::Abandon(session) => self.abandon(session),
                Effect::Reply(data) => reply = Some(data),
            }
        }
        if self.members_due.is_none() {
            self.members_due = self
                .room
                .members_due()
                .map(|window| tokio::time::Instant::now() + window);
        }
        let settings = self.room.device_settings();
        self.device_settings.send_if_modified(|saved| {
            let changed = saved != settings;
            if changed {
                saved.clone_from(settings);
            }
            changed
        });
        reply
    }

    fn publish(&self, event: &Event) {
        let method = format!("Event/{}", event.module);
        let text = wire::event(&method, event.name, event.code, &event.message, &event.data);
        // The line's text says which event, so `journalctl -u roomsd` reads on its own; the
        // fields are for collectors. Not `message`: that is the line's own text.
        let detail = (!event.message.is_empty()).then_some(event.message.as_str());
        let failed = match event.code.0 {
            0 => String::new(),
            code => format!(" failed with {code}: {}", event.message),
        };
        tracing::info!(
            module = event.module,
            event = event.name,
            code = event.code.0,
            detail,
            "event {}/{}{failed}",
            event.module,
            event.name
        );
        self.events
            .publish(event.module, event.name, text, std::time::Instant::now());
    }

    /// Runs a backend call on a task of its own; its answer comes back to the loop.
    fn run_call(&mut self, call: BackendCall) {
        let attempt = call.session.filter(|_| call.attempt);
        let pending = call.run(self.backend.as_ref(), Some(self.timeout));
        let completed = self.completed_tx.clone();
        let task = self.in_flight.spawn(async move {
            // Gone only at shutdown.
            let _ = completed.send(pending.await).await;
        });
        if let Some(session) = attempt {
            self.attempts.insert(session, task.abort_handle());
        }
    }

    /// Cuts the attempt's start or join short if it still runs (so it dials nothing more), then
    /// lets the backend undo what it did. The backend retries on its own until it is done, so
    /// this runs without the operation timeout; at shutdown it gets what is left of it.
    fn abandon(&mut self, session: Session) {
        if let Some(attempt) = self.attempts.remove(&session) {
            attempt.abort();
        }
        let backend = self.backend.clone();
        self.in_flight.spawn(async move {
            let undo = async move { backend.abandon(session).await };
            if AssertUnwindSafe(undo).catch_unwind().await.is_err() {
                tracing::error!(?session, "internal error: abandoning the attempt panicked");
            }
        });
    }
}

/// The next value of a watch, or never: without one (no hot-plug), or once its sender is gone.
async fn next_change<T: Clone>(watched: &mut Option<watch::Receiver<T>>) -> Option<T> {
    let Some(receiver) = watched else {
        return std::future::pending().await;
    };
    if receiver.changed().await.is_err() {
        *watched = None;
        return std::future::pending().await;
    }
    Some(receiver.borrow_and_update().clone())
}

/// `at`, or never.
async fn until(at: Option<tokio::time::Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

/// The next heartbeat tick, or never without a heartbeat.
async fn next_beat(beats: &mut Option<tokio::time::Interval>) {
    match beats {
        Some(beats) => {
            beats.tick().await;
        }
        None => std::future::pending().await,
    }
}

/// A backend answer; error 12 once the timeout passes; error 1 if the operation panics (a bug
/// in an adapter ends that operation, not the room's wait for it). Without a timeout (unit
/// tests answering at once), no timer is needed.
pub(super) async fn within<T>(
    timeout: Option<Duration>,
    op: impl Future<Output = BackendResult<T>>,
) -> BackendResult<T> {
    let op = AssertUnwindSafe(op).catch_unwind();
    let Some(timeout) = timeout else {
        return op
            .await
            .unwrap_or_else(|panic| Err(panicked(panic.as_ref())));
    };
    match tokio::time::timeout(timeout, op).await {
        Ok(Ok(answer)) => answer,
        Ok(Err(panic)) => Err(panicked(panic.as_ref())),
        Err(_) => Err(Refusal::new(
            ErrorCode::NETWORK,
            format!(
                "the meeting service did not answer within {} ms",
                timeout.as_millis()
            ),
        )),
    }
}

/// The answer of an operation that panicked: code 1.
fn panicked(panic: &(dyn std::any::Any + Send)) -> Refusal {
    let what = panic_message(panic);
    tracing::error!(panic = %what, "internal error: a backend operation panicked");
    Refusal::new(
        ErrorCode::FAIL,
        format!("internal error in the meeting service adapter: {what}"),
    )
}

/// What a panic said, when it said it with a string.
fn panic_message(panic: &(dyn std::any::Any + Send)) -> &str {
    panic
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| panic.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("a panic")
}
