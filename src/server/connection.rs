//! One client connection: the handshake, then a reader loop that answers requests and forwards
//! subscribed events, and a writer task that drains a bounded outbound queue.
//!
//! The queue is what keeps one client from hurting the others: the reader never waits on the
//! socket, so a client that stops reading only fills its own queue, and is dropped when it
//! overflows.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use socket2::{SockRef, TcpKeepalive};
use tokio::net::TcpStream;
use tokio::sync::{OwnedSemaphorePermit, broadcast, mpsc};
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::{Error as WsError, Message};
use tracing::Instrument;

use super::Context;
use super::dispatch::handle_text;
use super::handshake;
use super::subscriptions::Subscriptions;

/// How a connection ends.
enum Ending {
    /// Say why with a close frame, after the replies already queued.
    Close(CloseCode, &'static str),
    /// The client closed or vanished.
    Quietly,
    /// The client is not reading: drop it at once, queued frames and all.
    Drop,
}

/// How long a closing connection may take to flush what is queued.
const FLUSH_GRACE: Duration = Duration::from_secs(2);

pub async fn run(
    stream: TcpStream,
    peer: SocketAddr,
    ctx: Arc<Context>,
    id: u64,
    permit: Option<OwnedSemaphorePermit>,
) {
    // Instrumented, not entered: a span entered across `.await` leaks into other tasks' logs.
    let span = tracing::info_span!("conn", conn_id = id, %peer);
    serve(stream, ctx, permit).instrument(span).await;
}

async fn serve(stream: TcpStream, ctx: Arc<Context>, permit: Option<OwnedSemaphorePermit>) {
    set_socket_options(&stream);
    let at_capacity = permit.is_none();
    let accept = handshake::accept(
        stream,
        &ctx.password,
        at_capacity,
        ctx.serve_panel,
        ctx.ws_config,
    );
    let ws = match tokio::time::timeout(ctx.handshake_timeout, accept).await {
        Ok(Ok(ws)) => ws,
        Ok(Err(handshake::HandshakeError::Panel(status))) => {
            tracing::debug!(status, "panel request");
            return;
        }
        Ok(Err(error)) => {
            tracing::info!(%error, "handshake refused or failed");
            return;
        }
        Err(_) => {
            tracing::info!("handshake timed out");
            return;
        }
    };
    tracing::info!("client connected");
    let (mut sink, mut source) = ws.split();
    let (outbound, mut queued) = mpsc::channel::<Message>(ctx.outbound_queue);
    let writer = tokio::spawn(async move {
        while let Some(message) = queued.recv().await {
            let closing = matches!(message, Message::Close(_));
            // Frames queued together go out in one flush.
            if sink.feed(message).await.is_err()
                || ((closing || queued.is_empty()) && sink.flush().await.is_err())
            {
                return;
            }
            if closing {
                break;
            }
        }
        let _ = sink.close().await;
    });
    let writer_abort = writer.abort_handle();

    let mut events = ctx.room.subscribe_events();
    let mut subscriptions = Subscriptions::default();
    let ending = loop {
        tokio::select! {
            () = ctx.shutdown.cancelled() => break Ending::Close(CloseCode::Away, "roomsd is shutting down"),
            incoming = source.next() => match incoming {
                Some(Ok(Message::Text(text))) => {
                    if let Some(reply) = handle_text(&text, &ctx.room, &mut subscriptions).await
                        && outbound.try_send(Message::Text(reply.into())).is_err()
                    {
                        break Ending::Drop;
                    }
                }
                Some(Ok(Message::Binary(_))) => break Ending::Close(CloseCode::Unsupported, "binary frames are not supported: send JSON text"),
                // Pings are answered by tungstenite itself; pongs are never required.
                Some(Ok(Message::Ping(_) | Message::Pong(_) | Message::Frame(_))) => {}
                Some(Ok(Message::Close(_))) | None => break Ending::Quietly,
                Some(Err(WsError::Capacity(error))) => {
                    tracing::info!(%error, "message too big");
                    break Ending::Close(CloseCode::Size, "message too big");
                }
                Some(Err(error)) => {
                    tracing::info!(%error, "connection failed");
                    break Ending::Quietly;
                }
            },
            event = events.recv() => match event {
                Ok(frame) => {
                    if subscriptions.wants(frame.module, frame.name)
                        && outbound.try_send(Message::Text(frame.text)).is_err()
                    {
                        break Ending::Drop;
                    }
                }
                Err(broadcast::error::RecvError::Lagged(missed)) => {
                    tracing::warn!(missed, "connection fell behind the event stream");
                    break Ending::Drop;
                }
                Err(broadcast::error::RecvError::Closed) => break Ending::Close(CloseCode::Away, "roomsd is shutting down"),
            },
        }
    };
    match ending {
        Ending::Close(code, reason) => {
            tracing::info!(%code, reason, "closing connection");
            let _ = outbound.try_send(Message::Close(Some(CloseFrame {
                code,
                reason: reason.into(),
            })));
        }
        Ending::Quietly => tracing::info!("client disconnected"),
        Ending::Drop => {
            tracing::warn!(
                queue = ctx.outbound_queue,
                "client is not reading and its outbound queue overflowed: disconnecting"
            );
            writer_abort.abort();
        }
    }
    drop(outbound);
    if tokio::time::timeout(FLUSH_GRACE, writer).await.is_err() {
        writer_abort.abort();
    }
    drop(permit);
}

/// Low latency for small frames, and TCP keepalive to find peers that vanished: no application
/// heartbeat exists and real drivers never answer pings.
fn set_socket_options(stream: &TcpStream) {
    let socket = SockRef::from(stream);
    let keepalive = TcpKeepalive::new()
        .with_time(Duration::from_secs(60))
        .with_interval(Duration::from_secs(10));
    if let Err(error) = stream
        .set_nodelay(true)
        .and_then(|()| socket.set_tcp_keepalive(&keepalive))
    {
        tracing::debug!(%error, "could not set socket options");
    }
}
