//! The WebSocket server: the accept loop, per-connection tasks, handshake and authentication,
//! request dispatch and event subscriptions.

mod connection;
pub mod dispatch;
pub mod handshake;
mod panel;
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

/// What every connection shares.
struct Context {
    room: RoomHandle,
    password: String,
    serve_panel: bool,
    ws_config: WebSocketConfig,
    outbound_queue: usize,
    handshake_timeout: Duration,
    shutdown: CancellationToken,
}

/// Requests are small JSON objects: a 4 KiB read buffer (tungstenite zero-fills it on every
/// read, and allocates it per connection) instead of the default 128 KiB.
const READ_BUFFER: usize = 4 * 1024;
/// Writes are flushed per batch of queued frames; this only bounds what one flush gathers.
const WRITE_BUFFER: usize = 16 * 1024;

fn ws_config(config: &ServerConfig) -> WebSocketConfig {
    let max_message = config.max_message_bytes.get();
    WebSocketConfig::default()
        .read_buffer_size(READ_BUFFER)
        .write_buffer_size(WRITE_BUFFER)
        .max_write_buffer_size(usize::MAX)
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
        serve_panel: config.panel,
        ws_config: ws_config(config),
        outbound_queue: config.outbound_queue.get(),
        handshake_timeout: Duration::from_millis(config.handshake_timeout_ms),
        shutdown: shutdown.clone(),
    });
    let slots = Arc::new(Semaphore::new(config.max_connections));
    let connections = TaskTracker::new();
    let mut next_id = 0u64;
    loop {
        tokio::select! {
            () = shutdown.cancelled() => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, peer)) => {
                    next_id += 1;
                    // Over the limit the handshake still runs, to answer 503.
                    let permit = slots.clone().try_acquire_owned().ok();
                    connections.spawn(connection::run(stream, peer, ctx.clone(), next_id, permit));
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
