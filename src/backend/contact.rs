//! Keeping in touch with a service that has no keep-alive of its own (Easemob, RSC, HiAR): a
//! first contact as soon as the adapter is built, retried with a doubling wait while it fails,
//! then a check every `check_ms`, so that `Query ["Backend"]` says within seconds of start
//! whether the service answers, and keeps saying so between meetings.
//!
//! A probe is one cheap request chosen by the adapter. Its exchange records the health as
//! every exchange does; the loop only reads whether the service answered at all: an answer
//! with an error of the service's own (a refused token) is an answer, and is retried at the
//! check interval, not hammered.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use super::BackendResult;
use crate::config::BackendConfig;
use crate::wire::ErrorCode;

/// How the loop waits.
#[derive(Debug, Clone, Copy)]
pub struct Pace {
    /// The first wait after a failed try; doubles up to `check`.
    pub retry: Duration,
    /// The wait after the service answered.
    pub check: Duration,
}

impl Pace {
    pub fn of(config: &BackendConfig) -> Self {
        let check = Duration::from_millis(config.check_ms.0);
        Self {
            retry: Duration::from_millis(config.retry_ms.0).min(check),
            check,
        }
    }
}

/// Whether a probe's result means the service answered (with success or an error of its own).
pub fn answered<T>(result: &BackendResult<T>) -> bool {
    match result {
        Ok(_) => true,
        Err(refusal) => refusal.code != ErrorCode::NETWORK,
    }
}

/// Runs `probe` until `stop` is cancelled: at once, then as [`Pace`] says.
fn spawn<F, Fut>(service: &'static str, pace: Pace, stop: CancellationToken, probe: F)
where
    F: Fn() -> Fut + Send + 'static,
    Fut: Future<Output = BackendResult<()>> + Send,
{
    tokio::spawn(async move {
        let mut retry = pace.retry;
        loop {
            let result = tokio::select! {
                () = stop.cancelled() => return,
                result = probe() => result,
            };
            let wait = if answered(&result) {
                retry = pace.retry;
                pace.check
            } else {
                if let Err(refusal) = &result {
                    tracing::warn!(%refusal, "{service}: not reachable; trying again in {retry:?}");
                }
                let wait = retry;
                retry = (retry * 2).min(pace.check);
                wait
            };
            tokio::select! {
                () = stop.cancelled() => return,
                () = tokio::time::sleep(wait) => {}
            }
        }
    });
}

/// Runs `probe` on the adapter's `inner` as [`spawn`] does, holding only a weak reference, so
/// that the loop never keeps a dropped adapter alive.
pub fn keep<T, P, Fut>(
    service: &'static str,
    pace: Pace,
    stop: CancellationToken,
    inner: &Arc<T>,
    probe: P,
) where
    T: Send + Sync + 'static,
    P: Fn(Arc<T>) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = BackendResult<()>> + Send + 'static,
{
    let weak = Arc::downgrade(inner);
    let probe = Arc::new(probe);
    spawn(service, pace, stop, move || {
        let inner = weak.upgrade();
        let probe = probe.clone();
        async move {
            match inner {
                Some(inner) => probe(inner).await,
                None => Ok(()),
            }
        }
    });
}
