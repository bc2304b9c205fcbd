//! The fleet link (docs/FLEET.md): the room on an MQTT broker. Off unless `[mqtt] url` is set.
//!
//! Three tasks: the link drives the MQTT client (connects, reconnects with backoff, logs both,
//! hands requests on), the publisher follows the room (`publish.rs`), and the request worker
//! answers requests through the WebSocket's dispatcher (`requests.rs`). None of them is on the
//! room's path: the owner publishes into `watch` and `broadcast` channels whatever happens here.

mod homeassistant;
mod publish;
mod redact;
mod requests;
mod tls;
mod topics;

use std::time::Duration;

use rumqttc::v5::mqttbytes::QoS;
use rumqttc::v5::mqttbytes::v5::{LastWill, Packet, Publish, PublishProperties};
use rumqttc::v5::{AsyncClient, ConnectionError, Event, EventLoop, MqttOptions};
use rumqttc::{Outgoing, TlsConfiguration, Transport};
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::config::{CallPolicy, Config};
use crate::room::owner::RoomHandle;
use crate::server::dispatch::Limits;
use crate::server::request_keys::RequestKeys;
pub use redact::blank_passwords;
pub use tls::client_config as tls_config;
pub use topics::Topics;

/// The first wait before reconnecting; it doubles up to [`BACKOFF_MAX`].
const BACKOFF_MIN: Duration = Duration::from_millis(250);
const BACKOFF_MAX: Duration = Duration::from_secs(15);
/// Requests waiting for the worker; past this they are dropped (and logged): the asker times out.
const REQUEST_QUEUE: usize = 64;
/// How long a clean stop waits for `offline` and the disconnect to reach the broker.
const GOODBYE: Duration = Duration::from_secs(2);

/// Messages in flight (QoS 1, not yet acknowledged). rumqttc's default, 65535, preallocates a
/// slot for each: megabytes per room. Brokers allow fewer anyway (Mosquitto: 20).
const INFLIGHT: u16 = 64;

/// What every MQTT client of the project sets: small messages go out at once (no Nagle delay
/// waiting for the previous one's ACK), and the in-flight window is sized for small memory.
pub fn tune_options(options: &mut MqttOptions) {
    let mut network = rumqttc::NetworkOptions::new();
    network.set_tcp_nodelay(true);
    options
        .set_network_options(network)
        .set_outgoing_inflight_upper_limit(INFLIGHT);
}

/// The state of the connection to the broker, for the publisher.
#[derive(Debug, Clone, Copy, Default)]
pub struct Link {
    pub up: bool,
    /// Counts connections: a new one means everything is published again.
    pub generation: u64,
}

/// Starts the fleet link when `[mqtt] url` is set; the task ends after `shutdown`, having
/// published `offline`.
pub fn start(
    config: &Config,
    room: RoomHandle,
    shutdown: CancellationToken,
) -> Result<Option<JoinHandle<()>>, String> {
    let mqtt = &config.mqtt;
    let Some(broker) = &mqtt.url.0 else {
        return Ok(None);
    };
    let room_id = mqtt.resolved_room_id()?;
    let topics = Topics::new(&mqtt.prefix.0, &room_id);
    let mut options = MqttOptions::new(format!("roomsd-{room_id}"), &broker.host, broker.port);
    tune_options(&mut options);
    options
        .set_keep_alive(Duration::from_secs(mqtt.keepalive_secs.0))
        .set_clean_start(true)
        .set_request_channel_capacity(mqtt.queue.get())
        // Requests are bounded like WebSocket frames; the broker drops larger ones for us.
        .set_max_packet_size(Some(
            u32::try_from(config.server.max_message_bytes.get()).unwrap_or(u32::MAX),
        ))
        .set_last_will(LastWill::new(
            topics.status(),
            "offline",
            QoS::AtLeastOnce,
            true,
            None,
        ));
    if !mqtt.username.is_empty() {
        options.set_credentials(mqtt.username.clone(), mqtt.password.clone());
    }
    if broker.tls {
        let tls = tls::client_config(mqtt)?;
        options.set_transport(Transport::Tls(TlsConfiguration::Rustls(tls)));
    }
    let (client, eventloop) = AsyncClient::new(options, mqtt.queue.get());
    let (link_tx, link_rx) = watch::channel(Link::default());
    let (requests_tx, requests_rx) = mpsc::channel(REQUEST_QUEUE);
    let info = info_document(config, &room_id);
    let extra = if mqtt.homeassistant {
        homeassistant::documents(config, &room_id, &topics)
    } else {
        Vec::new()
    };
    let publisher = publish::Publisher {
        client: client.clone(),
        topics: topics.clone(),
        room: room.clone(),
        info,
        extra,
        events_qos: if mqtt.events_qos.0 == 0 {
            QoS::AtMostOnce
        } else {
            QoS::AtLeastOnce
        },
    };
    let worker = RequestWorker {
        client: client.clone(),
        topics: topics.clone(),
        room,
        policy: mqtt.calls.clone(),
        limits: Limits {
            batch_reply_bytes: config.server.max_batch_reply_bytes.get(),
            request_keys: RequestKeys::default(),
        },
    };
    let link = LinkTask {
        client,
        eventloop,
        topics,
        link: link_tx,
        requests: requests_tx,
        url: format!(
            "{}://{}:{}",
            if broker.tls { "mqtts" } else { "mqtt" },
            broker.host,
            broker.port
        ),
    };
    let publishing = tokio::spawn(publisher.run(link_rx, shutdown.clone()));
    let answering = tokio::spawn(worker.run(requests_rx, shutdown.clone()));
    Ok(Some(tokio::spawn(async move {
        link.run(shutdown).await;
        let _ = publishing.await;
        let _ = answering.await;
    })))
}

fn info_document(config: &Config, room_id: &str) -> String {
    crate::wire::to_wire(&serde_json::json!({
        "room_id": room_id,
        "name": config.room.name,
        "version": env!("CARGO_PKG_VERSION"),
        "backend": config.backend.kind,
        "screens": if config.screens.count == crate::config::ScreenCount::Two { 2 } else { 1 },
        "started_at": jiff::Timestamp::now().to_string(),
    }))
}

struct LinkTask {
    client: AsyncClient,
    eventloop: EventLoop,
    topics: Topics,
    link: watch::Sender<Link>,
    requests: mpsc::Sender<Publish>,
    url: String,
}

impl LinkTask {
    async fn run(mut self, shutdown: CancellationToken) {
        let request_topic = self.topics.request();
        let mut backoff = BACKOFF_MIN;
        let mut failures = 0u32;
        loop {
            let polled = tokio::select! {
                () = shutdown.cancelled() => break,
                polled = self.eventloop.poll() => polled,
            };
            match polled {
                Ok(Event::Incoming(Packet::ConnAck(_))) => {
                    backoff = BACKOFF_MIN;
                    failures = 0;
                    tracing::info!(broker = %self.url, topics = %self.topics.status(), "fleet: connected to {}", self.url);
                    // A clean session each time: subscribe again.
                    if let Err(error) = self.client.try_subscribe(&request_topic, QoS::AtLeastOnce)
                    {
                        tracing::warn!(%error, "fleet: cannot subscribe to {request_topic}");
                    }
                    self.link.send_modify(|link| {
                        link.up = true;
                        link.generation += 1;
                    });
                }
                Ok(Event::Incoming(Packet::SubAck(ack))) => {
                    if ack.return_codes.iter().any(|code| {
                        !matches!(
                            code,
                            rumqttc::v5::mqttbytes::v5::SubscribeReasonCode::Success(_)
                        )
                    }) {
                        tracing::warn!(
                            codes = ?ack.return_codes,
                            "fleet: the broker refused the subscription to {request_topic}: \
                             requests will not reach this room (check its ACL)"
                        );
                    }
                }
                Ok(Event::Incoming(Packet::Publish(publish))) => {
                    if publish.topic == request_topic.as_bytes()
                        && self.requests.try_send(publish).is_err()
                    {
                        tracing::warn!("fleet: too many requests waiting; one dropped");
                    }
                }
                Ok(_) => {}
                Err(error) => {
                    let was_up = self.link.borrow().up;
                    self.link.send_modify(|link| link.up = false);
                    if was_up {
                        tracing::warn!(%error, "fleet: lost the broker {}: {error}; reconnecting", self.url);
                    } else if failures == 0 || failures.is_power_of_two() {
                        // Logged, but not every try while the broker stays away.
                        tracing::warn!(%error, tries = failures + 1, "fleet: cannot connect to {}: {}", self.url, describe(&error));
                    }
                    failures = failures.saturating_add(1);
                    tokio::select! {
                        () = shutdown.cancelled() => break,
                        // Jittered, so that a fleet that lost its broker does not come back
                        // in one thundering herd.
                        () = tokio::time::sleep(backoff.mul_f64(rand::random_range(0.5..=1.0))) => {}
                    }
                    backoff = (backoff * 2).min(BACKOFF_MAX);
                }
            }
        }
        self.goodbye().await;
    }

    /// A clean disconnect does not fire the last will: say `offline` first.
    async fn goodbye(mut self) {
        if !self.link.borrow().up {
            return;
        }
        let offline =
            self.client
                .try_publish(self.topics.status(), QoS::AtLeastOnce, true, "offline");
        let _ = self.client.try_disconnect();
        let drained = tokio::time::timeout(GOODBYE, async {
            loop {
                match self.eventloop.poll().await {
                    Ok(Event::Outgoing(Outgoing::Disconnect)) | Err(_) => return,
                    Ok(_) => {}
                }
            }
        })
        .await;
        if offline.is_err() || drained.is_err() {
            tracing::warn!(
                "fleet: could not say offline before stopping; the broker will time the link out"
            );
        } else {
            tracing::info!("fleet: disconnected from {}", self.url);
        }
    }
}

/// The broker's refusal in words, when it refused.
fn describe(error: &ConnectionError) -> String {
    match error {
        ConnectionError::ConnectionRefused(code) => {
            format!(
                "the broker refused the connection ({code:?}): check mqtt.username and the password"
            )
        }
        other => other.to_string(),
    }
}

struct RequestWorker {
    client: AsyncClient,
    topics: Topics,
    room: RoomHandle,
    policy: CallPolicy,
    limits: Limits,
}

impl RequestWorker {
    async fn run(self, mut requests: mpsc::Receiver<Publish>, shutdown: CancellationToken) {
        loop {
            let publish = tokio::select! {
                () = shutdown.cancelled() => return,
                next = requests.recv() => match next {
                    Some(publish) => publish,
                    None => return,
                },
            };
            self.answer(publish).await;
        }
    }

    async fn answer(&self, publish: Publish) {
        let Ok(text) = std::str::from_utf8(&publish.payload) else {
            tracing::warn!("fleet: a request that is not UTF-8 text; ignored");
            return;
        };
        let Some(reply) = requests::answer(text, &self.room, &self.policy, &self.limits).await
        else {
            return;
        };
        let reply = blank_passwords(&reply).into_owned();
        // MQTT 5: the asker's own response topic, with its correlation data. MQTT 3.1.1: the
        // room's `response` topic, matched by the request's id.
        let properties = publish.properties.unwrap_or_default();
        let sent = match properties.response_topic {
            Some(topic) => {
                let properties = PublishProperties {
                    correlation_data: properties.correlation_data,
                    ..PublishProperties::default()
                };
                self.client
                    .publish_with_properties(topic, QoS::AtLeastOnce, false, reply, properties)
                    .await
            }
            None => {
                self.client
                    .publish(self.topics.response(), QoS::AtLeastOnce, false, reply)
                    .await
            }
        };
        if let Err(error) = sent {
            tracing::warn!(%error, request_id = requests::id_of(text), "fleet: cannot send an answer");
        }
    }
}
