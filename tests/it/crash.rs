//! A room owner that panics stops the daemon with an error, so that `roomsd` exits non-zero and
//! systemd restarts it, rather than living on with a stale state and every call refused.

use crate::common;

use std::time::Duration;

use common::{Client, WAIT};
use roomsd::daemon::{Crashed, Daemon, Hosting};
use roomsd::room::owner::Heartbeat;

#[tokio::test]
async fn an_owner_panic_stops_the_daemon_with_an_error() {
    let mut beats = 0;
    // The heartbeat runs on the owner's own loop: the seam to make that task panic.
    let heartbeat = Heartbeat {
        every: Duration::from_millis(50),
        beat: Box::new(move || {
            beats += 1;
            assert!(beats < 4, "the owner trips over a bug");
        }),
    };
    let hosting = Hosting {
        heartbeat: Some(heartbeat),
        ..Hosting::default()
    };
    let daemon = Daemon::start_hosted(common::config(), hosting)
        .await
        .expect("daemon starts");
    let mut panel = Client::connect(daemon.local_addr()).await;
    let stopped = tokio::time::timeout(WAIT, daemon.stopped())
        .await
        .expect("the daemon stops on its own");
    assert!(
        matches!(stopped, Err(Crashed::OwnerPanicked)),
        "{stopped:?}"
    );
    let close = panel.close_frame().await;
    assert!(
        close.as_ref().is_none_or(|c| u16::from(c.code) == 1001),
        "{close:?}"
    );
}

#[tokio::test]
async fn a_daemon_asked_to_stop_stops_cleanly() {
    let daemon = common::start_default().await;
    daemon.shutdown_token().cancel();
    let stopped = tokio::time::timeout(WAIT, daemon.stopped()).await.unwrap();
    assert!(stopped.is_ok(), "{stopped:?}");
}
