//! The owner task with a backend whose start and join misbehave: they panic or never answer.
//! Every attempt must still end in its event, and what it may have done must be abandoned.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::future::BoxFuture;
use serde_json::Value;
use tokio::sync::{broadcast, mpsc, watch};
use tokio_util::sync::CancellationToken;

use super::test_support::{join, room};
use super::*;
use crate::domain::{Backend, Health, JoinRequest, Media, StartRequest};
use crate::modules::meeting_control::ControlAction;
use owner::{EventFrame, Inputs, OwnerSettings, RoomHandle};

#[derive(Clone, Copy)]
enum Misbehaves {
    Panics,
    NeverAnswers,
}

/// A backend whose start and join misbehave, and which records what the room abandons.
struct Faulty {
    how: Misbehaves,
    abandoned: Arc<Mutex<Vec<Session>>>,
    /// Set when a join's future is dropped unfinished (cut short).
    dropped: Arc<Mutex<bool>>,
}

struct OnDrop(Arc<Mutex<bool>>);

impl Drop for OnDrop {
    fn drop(&mut self) {
        *self.0.lock().unwrap() = true;
    }
}

impl Faulty {
    fn misbehave<T: Send + 'static>(&self) -> BoxFuture<'static, BackendResult<T>> {
        let (how, dropped) = (self.how, OnDrop(self.dropped.clone()));
        Box::pin(async move {
            match how {
                Misbehaves::Panics => panic!("the adapter tripped over its own feet"),
                Misbehaves::NeverAnswers => {
                    std::future::pending::<()>().await;
                    drop(dropped);
                    unreachable!()
                }
            }
        })
    }
}

fn ok<T: Send + 'static>(value: T) -> BoxFuture<'static, BackendResult<T>> {
    Box::pin(async move { Ok(value) })
}

impl Backend for Faulty {
    fn profile(&self) -> crate::domain::Profile {
        crate::domain::Profile {
            service: "faulty",
            ..crate::backend::sim::PROFILE
        }
    }
    fn start(&self, _: StartRequest) -> BoxFuture<'static, BackendResult<MeetingDetails>> {
        self.misbehave()
    }
    fn join(&self, _: JoinRequest) -> BoxFuture<'static, BackendResult<Joined>> {
        self.misbehave()
    }
    fn leave(&self, _: Session) -> BoxFuture<'static, BackendResult<()>> {
        ok(())
    }
    fn dissolve(&self, _: Session) -> BoxFuture<'static, BackendResult<()>> {
        ok(())
    }
    fn meeting_list(&self) -> BoxFuture<'static, BackendResult<Vec<ScheduledMeeting>>> {
        ok(Vec::new())
    }
    fn set_media(&self, _: Session, _: Media) -> BoxFuture<'static, BackendResult<()>> {
        ok(())
    }
    fn control(&self, _: Session, _: ControlAction) -> BoxFuture<'static, BackendResult<()>> {
        ok(())
    }
    fn abandon(&self, session: Session) -> BoxFuture<'static, ()> {
        self.abandoned.lock().unwrap().push(session);
        Box::pin(async {})
    }
}

struct Owned {
    handle: RoomHandle,
    events: broadcast::Receiver<EventFrame>,
    task: tokio::task::JoinHandle<()>,
    shutdown: CancellationToken,
    abandoned: Arc<Mutex<Vec<Session>>>,
    dropped: Arc<Mutex<bool>>,
}

fn spawn(how: Misbehaves, timeout: Duration) -> Owned {
    let backend = Faulty {
        how,
        abandoned: Arc::default(),
        dropped: Arc::default(),
    };
    let (abandoned, dropped) = (backend.abandoned.clone(), backend.dropped.clone());
    let (_reports_tx, reports) = mpsc::channel(8);
    let (_health_tx, health) = watch::channel(Health::unknown());
    let (device_settings, _) = watch::channel(DeviceSettings::default());
    let shutdown = CancellationToken::new();
    let (handle, task) = owner::spawn(
        room(),
        Arc::new(backend),
        Inputs {
            reports,
            displays: None,
            health,
        },
        OwnerSettings {
            backend_timeout: timeout,
            event_capacity: 64,
            history: crate::room::history::HistoryLimits::from_config(
                &crate::config::EventsConfig::default(),
            ),
            device_settings,
            heartbeat: None,
        },
        shutdown.clone(),
    );
    let events = handle.subscribe_events();
    Owned {
        handle,
        events,
        task,
        shutdown,
        abandoned,
        dropped,
    }
}

impl Owned {
    async fn event(&mut self, name: &str) -> Value {
        let wait = async {
            loop {
                let frame = self.events.recv().await.expect("events flow");
                if frame.name == name {
                    let frame: Value = serde_json::from_str(&frame.text).unwrap();
                    return frame["params"].clone();
                }
            }
        };
        tokio::time::timeout(Duration::from_secs(5), wait)
            .await
            .unwrap_or_else(|_| panic!("no {name} within 5 s"))
    }

    fn status(&self) -> Value {
        let snapshot = self.handle.snapshot();
        let info = snapshot.fragment(&["meeting", "meeting_info"]).unwrap();
        serde_json::from_str::<Value>(info).unwrap()["meeting_info"]["meeting_status"].clone()
    }
}

async fn eventually(ok: impl Fn() -> bool) {
    let wait = async {
        while !ok() {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    };
    tokio::time::timeout(Duration::from_secs(5), wait)
        .await
        .expect("happened");
}

#[tokio::test]
async fn a_panicking_join_ends_in_an_internal_error_and_the_room_is_idle() {
    let mut owned = spawn(Misbehaves::Panics, Duration::from_secs(10));
    owned.handle.call(join()).await.unwrap();
    let done = owned.event("JoinMeetingCompleted").await;
    assert_eq!(done["error_code"], 1, "{done}");
    let message = done["message"].as_str().unwrap();
    assert!(message.contains("internal error"), "{message}");
    assert_eq!(owned.status(), 0, "not stuck in Joining");
    // The owner still takes steps.
    owned.handle.call(join()).await.unwrap();
    assert_eq!(owned.event("JoinMeetingCompleted").await["error_code"], 1);
}

#[tokio::test]
async fn a_join_that_times_out_is_cut_short_and_abandoned() {
    let mut owned = spawn(Misbehaves::NeverAnswers, Duration::from_millis(100));
    owned.handle.call(join()).await.unwrap();
    let done = owned.event("JoinMeetingCompleted").await;
    assert_eq!(done["error_code"], 12, "{done}");
    eventually(|| owned.abandoned.lock().unwrap().len() == 1).await;
    assert!(*owned.dropped.lock().unwrap());
}

#[tokio::test]
async fn shutting_down_mid_join_abandons_it() {
    // A timeout the test would never outlive: shutting down must not wait for it.
    let owned = spawn(Misbehaves::NeverAnswers, Duration::from_secs(3600));
    owned.handle.call(join()).await.unwrap();
    eventually(|| owned.status() == 2).await;
    assert!(owned.abandoned.lock().unwrap().is_empty());
    owned.shutdown.cancel();
    tokio::time::timeout(Duration::from_secs(60), owned.task)
        .await
        .expect("shutdown did not wait for the join to time out")
        .unwrap();
    assert_eq!(owned.abandoned.lock().unwrap().len(), 1);
    assert!(*owned.dropped.lock().unwrap(), "the join was cut short");
}
