//! One client connection: the handshake, then a reader loop that answers requests and forwards
//! subscribed events, a writer task that drains a bounded outbound queue, and the ending.
//!
//! The queue is what keeps one client from hurting the others: the reader never waits on the
//! socket, so a client that stops reading only fills its own queue, and is dropped when it
//! overflows. It is bounded in bytes as well as frames, and tungstenite's own write buffer (where
//! it also puts pongs) is bounded, so a connection's memory is bounded whatever it sends.

use std::net::SocketAddr;
use std::ops::ControlFlow;
use std::sync::Arc;
use std::time::Duration;

use futures_util::stream::{SplitSink, SplitStream};
use futures_util::{SinkExt, StreamExt};
use socket2::{SockRef, TcpKeepalive};
use tokio::net::TcpStream;
use tokio::sync::{OwnedSemaphorePermit, Semaphore, broadcast, mpsc};
use tokio::task::JoinHandle;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::{Error as WsError, Message, Utf8Bytes};
use tracing::Instrument;

use super::Context;
use super::admission::{Peer, PendingSlot};
use super::dispatch::handle_text;
use super::handshake::{self, Accepted};
use super::subscriptions::Subscriptions;
use crate::room::history::{EventFrame, SharedText};

type Socket = WebSocketStream<TcpStream>;

/// How a connection ends.
enum Ending {
    /// Say why with a close frame, after the replies already queued.
    Close(CloseCode, &'static str),
    /// The client closed or vanished.
    Quietly,
    /// The client is not reading: drop it at once, queued frames and all.
    Drop,
}

/// How long a replayed event may wait for room in a client's queue: a replay can be longer
/// than the queue, so it goes at the client's pace, but a client that stops reading is dropped.
const REPLAY_STALL: Duration = Duration::from_secs(10);

/// How long a closing connection may take to flush what is queued.
const FLUSH_GRACE: Duration = Duration::from_secs(2);

/// What a queued frame costs beyond its payload (the message, its place in the channel, the
/// permit), so that a flood of tiny frames is bounded too.
const FRAME_OVERHEAD: usize = 64;

/// Serves one accepted connection; `pending` is its place among the handshakes.
pub async fn run(
    stream: TcpStream,
    peer: SocketAddr,
    ctx: Arc<Context>,
    id: u64,
    pending: PendingSlot,
) {
    // Instrumented, not entered: a span entered across `.await` leaks into other tasks' logs.
    let span = tracing::info_span!("conn", conn_id = id, %peer);
    async move {
        set_socket_options(&stream);
        let Some(Accepted { ws, slot }) = handshake(stream, peer, &ctx, pending).await else {
            return;
        };
        tracing::info!("client connected");
        serve(ws, &ctx).await;
        drop(slot);
    }
    .instrument(span)
    .await;
}

/// The handshake, within its deadline and for as long as no newer connection needs its place.
async fn handshake(
    stream: TcpStream,
    peer: SocketAddr,
    ctx: &Context,
    pending: PendingSlot,
) -> Option<Accepted> {
    let accept = async {
        // Sockets that never send a byte are the first to make room for others.
        stream.readable().await?;
        pending.spoke();
        handshake::accept(stream, Peer::from(peer.ip()), ctx).await
    };
    let outcome = tokio::select! {
        outcome = tokio::time::timeout(ctx.handshake_timeout, accept) => outcome,
        () = pending.evicted.cancelled() => {
            tracing::info!("handshake closed to make room for a newer connection");
            return None;
        }
    };
    match outcome {
        Ok(Ok(accepted)) => Some(accepted),
        Ok(Err(handshake::HandshakeError::Panel(status))) => {
            tracing::debug!(status, "panel request");
            None
        }
        Ok(Err(error)) => {
            tracing::info!(%error, "handshake refused or failed");
            None
        }
        Err(_) => {
            tracing::info!("handshake timed out");
            None
        }
    }
}

/// Answers requests and forwards events until the connection ends, then ends it.
async fn serve(ws: Socket, ctx: &Context) {
    let (sink, mut source) = ws.split();
    let (outbound, writer) = Outbound::start(sink, ctx);
    let ending = read_loop(&mut source, &outbound, ctx).await;
    finish(ending, outbound, writer, ctx).await;
}

/// Closes the connection as `ending` says, giving the writer a moment to flush what is queued.
async fn finish(ending: Ending, outbound: Outbound, writer: JoinHandle<()>, ctx: &Context) {
    let writer_abort = writer.abort_handle();
    match ending {
        Ending::Close(code, reason) => {
            tracing::info!(%code, reason, "closing connection");
            let close = Message::Close(Some(CloseFrame {
                code,
                reason: reason.into(),
            }));
            if outbound.push(close).is_err() {
                writer_abort.abort();
            }
        }
        Ending::Quietly => tracing::info!("client disconnected"),
        Ending::Drop => {
            tracing::warn!(
                max_unsent_bytes = ctx.max_unsent_bytes,
                max_frames = ctx.outbound_queue,
                "client is not reading and what waits for it passed the limit: disconnecting"
            );
            writer_abort.abort();
        }
    }
    drop(outbound);
    if tokio::time::timeout(FLUSH_GRACE, writer).await.is_err() {
        writer_abort.abort();
    }
}

/// An event's shared bytes as a text frame, without copying or checking them again.
fn event_message(text: &SharedText) -> Message {
    // SAFETY: a `SharedText` is only ever made from a `String`, so its bytes are UTF-8. Checking
    // them again would cost every subscriber a pass over every event.
    Message::Text(unsafe { Utf8Bytes::from_bytes_unchecked(text.bytes().clone()) })
}

const SHUTTING_DOWN: Ending = Ending::Close(CloseCode::Away, "roomsd is shutting down");

/// Reads the client's frames and the room's events, one at a time, until one ends the
/// connection.
async fn read_loop(source: &mut SplitStream<Socket>, outbound: &Outbound, ctx: &Context) -> Ending {
    let (mut events, seen) = ctx.room.subscribe_events_at();
    let mut subscriptions = Subscriptions::starting_after(seen);
    loop {
        let step = tokio::select! {
            () = ctx.shutdown.cancelled() => ControlFlow::Break(SHUTTING_DOWN),
            incoming = source.next() => {
                on_frame(incoming, &mut subscriptions, outbound, ctx).await
            }
            event = events.recv() => on_event(event, &mut subscriptions, outbound),
        };
        if let ControlFlow::Break(ending) = step {
            return ending;
        }
    }
}

/// A frame from the client: requests are answered, then a resume's missed events are queued
/// (after the answer, before anything live).
async fn on_frame(
    incoming: Option<Result<Message, WsError>>,
    subscriptions: &mut Subscriptions,
    outbound: &Outbound,
    ctx: &Context,
) -> ControlFlow<Ending> {
    let text = match incoming {
        Some(Ok(Message::Text(text))) => text,
        Some(Ok(Message::Binary(_))) => {
            return ControlFlow::Break(Ending::Close(
                CloseCode::Unsupported,
                "binary frames are not supported: send JSON text",
            ));
        }
        // Pings are answered by tungstenite itself; pongs are never required.
        Some(Ok(Message::Ping(_) | Message::Pong(_) | Message::Frame(_))) => {
            return ControlFlow::Continue(());
        }
        Some(Ok(Message::Close(_))) | None => return ControlFlow::Break(Ending::Quietly),
        Some(Err(error)) => return ControlFlow::Break(failed(&error)),
    };
    if let Some(reply) = handle_text(&text, &ctx.room, subscriptions, &ctx.limits).await
        && outbound.push(Message::Text(reply.into())).is_err()
    {
        return ControlFlow::Break(Ending::Drop);
    }
    for frame in subscriptions.take_replay() {
        if outbound
            .push_waiting(event_message(&frame.with_seq))
            .await
            .is_err()
        {
            return ControlFlow::Break(Ending::Drop);
        }
    }
    ControlFlow::Continue(())
}

/// A live event: queued if the client subscribed to it.
fn on_event(
    event: Result<EventFrame, broadcast::error::RecvError>,
    subscriptions: &mut Subscriptions,
    outbound: &Outbound,
) -> ControlFlow<Ending> {
    match event {
        Ok(frame) => {
            if let Some(text) = subscriptions.deliver(&frame)
                && outbound.push(event_message(text)).is_err()
            {
                return ControlFlow::Break(Ending::Drop);
            }
            ControlFlow::Continue(())
        }
        Err(broadcast::error::RecvError::Lagged(missed)) => {
            tracing::warn!(missed, "connection fell behind the event stream");
            ControlFlow::Break(Ending::Drop)
        }
        Err(broadcast::error::RecvError::Closed) => ControlFlow::Break(SHUTTING_DOWN),
    }
}

/// How a connection whose frames cannot be read ends: with the close code RFC 6455 gives the
/// fault, so that the client can tell what it did wrong.
fn failed(error: &WsError) -> Ending {
    tracing::info!(%error, "connection failed");
    match error {
        WsError::Capacity(_) => Ending::Close(CloseCode::Size, "message too big"),
        WsError::Utf8(_) => Ending::Close(CloseCode::Invalid, "text frame is not valid UTF-8"),
        WsError::Protocol(_) => Ending::Close(CloseCode::Protocol, "WebSocket protocol violation"),
        _ => Ending::Quietly,
    }
}

/// The frames waiting for one client's socket, bounded in frames and in bytes. Each frame
/// carries its share of the byte budget until the writer has handed it to the socket.
struct Outbound {
    frames: mpsc::Sender<(Message, OwnedSemaphorePermit)>,
    bytes: Arc<Semaphore>,
}

/// The client let what waits for it pass the limit.
struct Overflow;

impl Outbound {
    /// The queue, and the writer task that drains it into `sink`.
    fn start(mut sink: SplitSink<Socket, Message>, ctx: &Context) -> (Self, JoinHandle<()>) {
        let (frames, mut queued) =
            mpsc::channel::<(Message, OwnedSemaphorePermit)>(ctx.outbound_queue);
        let bytes = Arc::new(Semaphore::new(ctx.max_unsent_bytes));
        let writer = tokio::spawn(async move {
            while let Some((message, permit)) = queued.recv().await {
                let closing = matches!(message, Message::Close(_));
                // Frames queued together go out in one flush.
                if sink.feed(message).await.is_err()
                    || ((closing || queued.is_empty()) && sink.flush().await.is_err())
                {
                    return;
                }
                drop(permit);
                if closing {
                    break;
                }
            }
            let _ = sink.close().await;
        });
        (Self { frames, bytes }, writer)
    }

    /// Queues a frame once there is room for it, waiting at most [`REPLAY_STALL`].
    async fn push_waiting(&self, message: Message) -> Result<(), Overflow> {
        let cost = u32::try_from(message.len() + FRAME_OVERHEAD).map_err(|_| Overflow)?;
        let queued = async {
            let permit = self
                .bytes
                .clone()
                .acquire_many_owned(cost)
                .await
                .map_err(|_| Overflow)?;
            self.frames
                .send((message, permit))
                .await
                .map_err(|_| Overflow)
        };
        tokio::time::timeout(REPLAY_STALL, queued)
            .await
            .map_err(|_| Overflow)?
    }

    fn push(&self, message: Message) -> Result<(), Overflow> {
        let cost = u32::try_from(message.len() + FRAME_OVERHEAD).map_err(|_| Overflow)?;
        let permit = self
            .bytes
            .clone()
            .try_acquire_many_owned(cost)
            .map_err(|_| Overflow)?;
        self.frames
            .try_send((message, permit))
            .map_err(|_| Overflow)
    }
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
