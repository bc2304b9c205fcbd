//! The WebSocket server: the accept loop, per-connection tasks, handshake and authentication,
//! request dispatch and event subscriptions.

mod admission;
mod connection;
pub mod dispatch;
pub mod handshake;
mod panel;
pub mod request_keys;
pub mod subscriptions;

use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::config::ServerConfig;
use crate::room::owner::RoomHandle;
use admission::{Guesses, Peer, Pending};

/// What every connection shares.
struct Context {
    room: RoomHandle,
    password: String,
    allowed_origins: Vec<String>,
    serve_panel: bool,
    ws_config: WebSocketConfig,
    outbound_queue: usize,
    max_unsent_bytes: usize,
    /// What one frame's handling may cost.
    limits: dispatch::Limits,
    handshake_timeout: Duration,
    /// Connections still in the handshake.
    pending: Arc<Pending>,
    /// Places for authenticated clients (`max_connections`).
    slots: Arc<Semaphore>,
    guesses: Guesses,
    shutdown: CancellationToken,
}

impl Context {
    fn policy(&self) -> handshake::Policy<'_> {
        handshake::Policy {
            password: &self.password,
            allowed_origins: &self.allowed_origins,
            serve_panel: self.serve_panel,
        }
    }
}

/// Requests are small JSON objects: a 4 KiB read buffer (tungstenite zero-fills it on every
/// read, and allocates it per connection) instead of the default 128 KiB.
const READ_BUFFER: usize = 4 * 1024;
/// Writes are flushed per batch of queued frames; this only bounds what one flush gathers.
const WRITE_BUFFER: usize = 16 * 1024;

fn ws_config(config: &ServerConfig) -> WebSocketConfig {
    let max_message = config.max_message_bytes.get();
    // tungstenite's own buffer holds at most one frame beyond a flush's worth, and no frame
    // is queued that is larger than the unsent-bytes budget. Bounded, so that pongs to a ping
    // flood from a client that never reads replace each other instead of piling up.
    let max_write_buffer = WRITE_BUFFER + config.max_unsent_bytes.get();
    WebSocketConfig::default()
        .read_buffer_size(READ_BUFFER)
        .write_buffer_size(WRITE_BUFFER)
        .max_write_buffer_size(max_write_buffer)
        .max_message_size(Some(max_message))
        .max_frame_size(Some(max_message))
}

/// Serves connections until `shutdown`, then closes them all (code 1001) and returns once they
/// are gone.
pub async fn run(
    listener: TcpListener,
    room: RoomHandle,
    config: &ServerConfig,
    shutdown: CancellationToken,
) {
    let ctx = Arc::new(Context {
        room,
        password: config.password.clone(),
        allowed_origins: config.allowed_origins.clone(),
        serve_panel: config.panel,
        ws_config: ws_config(config),
        outbound_queue: config.outbound_queue.get(),
        max_unsent_bytes: config.max_unsent_bytes.get(),
        limits: dispatch::Limits {
            batch_reply_bytes: config.max_batch_reply_bytes.get(),
            request_keys: request_keys::RequestKeys::default(),
        },
        handshake_timeout: Duration::from_millis(config.handshake_timeout_ms.0),
        pending: Pending::new(
            config.max_handshakes.get(),
            config.max_handshakes_per_peer.get(),
        ),
        slots: Arc::new(Semaphore::new(config.max_connections.get())),
        guesses: Guesses::default(),
        shutdown: shutdown.clone(),
    });
    let connections = TaskTracker::new();
    let mut next_id = 0u64;
    loop {
        tokio::select! {
            () = shutdown.cancelled() => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, peer)) => {
                    next_id += 1;
                    // A duplicate handle, so that the budget can see whether a client has sent
                    // its request before its task has run.
                    let probe = socket2::SockRef::from(&stream).try_clone().ok();
                    let pending = ctx.pending.arrive(Peer::from(peer.ip()), probe);
                    connections.spawn(connection::run(stream, peer, ctx.clone(), next_id, pending));
                }
                Err(error) => {
                    // Typically out of file descriptors: back off instead of spinning.
                    tracing::warn!(%error, "accept failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            },
        }
    }
    drop(listener);
    connections.close();
    connections.wait().await;
}
