//! `roomsctl fleet`: every room through the MQTT broker they all publish to (docs/FLEET.md),
//! not through one room's WebSocket.

use std::process::ExitCode;
use std::time::Duration;

use clap::{Args, Subcommand};
use rumqttc::v5::mqttbytes::QoS;
use rumqttc::v5::mqttbytes::v5::{Packet, Publish, PublishProperties};
use rumqttc::v5::{AsyncClient, Event, MqttOptions};
use rumqttc::{TlsConfiguration, Transport};
use serde_json::{Value, json};
use tokio::sync::mpsc;

use crate::connect::Failure;
use crate::fleet_table::{Rooms, Table};
use crate::render::{self, emit};
use crate::{params, registry};
use roomsd::schema::outcome::Outcome;

#[derive(Args)]
pub struct FleetArgs {
    /// The broker: `mqtt://host[:port]` or `mqtts://host[:port]`
    #[arg(long, env = "ROOMSCTL_BROKER", default_value = "mqtt://127.0.0.1:1883")]
    pub broker: String,
    /// The rooms' topic prefix (their `mqtt.prefix`)
    #[arg(long, default_value = "rooms")]
    pub prefix: String,
    /// Broker user name
    #[arg(long, env = "ROOMSCTL_BROKER_USERNAME")]
    pub username: Option<String>,
    /// mqtts: a CA (PEM) to trust besides the system's roots
    #[arg(long, value_name = "FILE")]
    pub ca_file: Option<std::path::PathBuf>,
    /// Where the rooms send answers (MQTT 5 response topic): `<this>/<client id>`
    #[arg(long, default_value = "replies")]
    pub reply_prefix: String,
    #[command(subcommand)]
    pub command: FleetCommand,
}

#[derive(Subcommand)]
pub enum FleetCommand {
    /// A table of every room: online, meeting, members, meeting service, screens; it updates
    /// in place on a terminal, one line per change when piped
    Status {
        /// Print the table once, when the broker has sent what it keeps, and exit
        #[arg(long)]
        once: bool,
    },
    /// Read a node of one room's state, e.g. `query room-101 Meeting MeetingInfo`
    Query { room: String, path: Vec<String> },
    /// Run an action in one room, e.g. `call room-101 Meeting LeaveMeeting`; like `roomsctl
    /// call`, it waits for the event that tells the outcome
    Call {
        room: String,
        module: String,
        action: String,
        /// KEY=TEXT or KEY:=JSON, as for `roomsctl call`
        params: Vec<String>,
        /// Return at the acknowledgement, without waiting for the outcome event
        #[arg(long)]
        no_wait: bool,
        /// Seconds to wait for the outcome event
        #[arg(long, value_name = "SECS", default_value_t = 20,
              value_parser = clap::value_parser!(u64).range(1..))]
        wait_timeout: u64,
    },
    /// Print the events of one room, or of all, one line each, until Ctrl-C
    Watch { room: Option<String> },
}

/// How long `status --once` waits after the last retained message before printing.
const QUIET: Duration = Duration::from_millis(300);

pub async fn run(
    args: &FleetArgs,
    password: Option<String>,
    timeout: u64,
    json_out: bool,
) -> Result<ExitCode, Failure> {
    let timeout = Duration::from_secs(timeout);
    let mut broker = Broker::connect(args, password, timeout).await?;
    let prefix = &args.prefix;
    match &args.command {
        FleetCommand::Status { once } => {
            for topic in [
                "status",
                "info",
                "state/Meeting",
                "state/Members",
                "state/Backend",
            ] {
                broker.subscribe(&format!("{prefix}/+/{topic}")).await?;
            }
            status(&mut broker, prefix, *once, json_out).await
        }
        FleetCommand::Query { room, path } => {
            let path = registry::query_path(path);
            let frame =
                json!({"jsonrpc": "2.0", "id": 1, "method": "Query", "params": {"path": path}});
            let answer = broker.request(prefix, room, &frame, timeout).await?;
            report(&answer, json_out)
        }
        FleetCommand::Call {
            room,
            module,
            action,
            params: words,
            no_wait,
            wait_timeout,
        } => {
            let module = registry::module(module).ok_or_else(|| {
                Failure::usage(format!(
                    "no module {module:?} (`roomsctl actions` lists them)"
                ))
            })?;
            let action = registry::action(module, action).ok_or_else(|| {
                Failure::usage(format!(
                    "{} has no action {action:?} (`roomsctl actions {}` lists them)",
                    module.name, module.name
                ))
            })?;
            let given = words
                .iter()
                .map(|w| params::parse(w))
                .collect::<Result<Vec<_>, _>>()
                .map_err(Failure::usage)?;
            params::check(module, action, &given).map_err(Failure::usage)?;
            let frame = json!({
                "jsonrpc": "2.0", "id": 1, "method": format!("Call/{}", module.name),
                "params": {"action": action, "action_params": params::object(&given)},
            });
            let awaited = match registry::outcome(module, action) {
                Outcome::Event(events) if !no_wait => events,
                _ => Vec::new(),
            };
            let events = format!("{prefix}/{room}/event/{}", module.name);
            if !awaited.is_empty() {
                // Before the call, so that a quick outcome is not missed.
                broker.subscribe(&events).await?;
            }
            let answer = broker.request(prefix, room, &frame, timeout).await?;
            let result = answer.get("result").unwrap_or(&answer);
            if awaited.is_empty() {
                return report(&answer, json_out);
            }
            if json_out || result["error_code"] != 0 {
                // A refusal ends here (exit 1); with --json the acknowledgement is printed too.
                report(&answer, json_out)?;
            }
            let limit = Duration::from_secs(*wait_timeout);
            let outcome = tokio::time::timeout(limit, broker.event(&events, &awaited)).await;
            let params = match outcome {
                Ok(Some(params)) => params,
                Ok(None) => return Err(Failure(3, "lost the broker".into())),
                Err(_) => {
                    let why = format!(
                        "{action} was accepted, but no {} came from {room} within {wait_timeout}s \
                         (--wait-timeout): `roomsctl fleet status` shows where the room is",
                        awaited.join(" or ")
                    );
                    return Err(Failure(4, why));
                }
            };
            if json_out {
                emit(&params.to_string());
            } else {
                emit(&format!(
                    "{room} {}",
                    render::event_line(module.name, &params)
                ));
            }
            if params["error_code"] != 0 {
                let sub_event = params["sub_event"].as_str().unwrap_or("the event");
                let why = format!(
                    "{action} failed ({sub_event}): {}",
                    crate::call::error_text(&params)
                );
                return Err(Failure(1, why));
            }
            Ok(ExitCode::SUCCESS)
        }
        FleetCommand::Watch { room } => {
            let room = room.as_deref().unwrap_or("+");
            broker
                .subscribe(&format!("{prefix}/{room}/event/+"))
                .await?;
            broker.subscribe(&format!("{prefix}/{room}/status")).await?;
            watch(&mut broker, prefix, json_out).await
        }
    }
}

/// The answer's `result` (or the JSON-RPC error), as `roomsctl query` prints it.
fn report(answer: &Value, compact: bool) -> Result<ExitCode, Failure> {
    crate::report(answer.get("result").unwrap_or(answer), compact)
}

async fn status(
    broker: &mut Broker,
    prefix: &str,
    once: bool,
    json_out: bool,
) -> Result<ExitCode, Failure> {
    let mut rooms = Rooms::default();
    let live = !once && std::io::IsTerminal::is_terminal(&std::io::stdout());
    let mut table = Table::new(live);
    loop {
        // --once: the broker sends what it keeps at once, so a quiet moment means all of it is
        // here. Live: the table is redrawn at most every REDRAW, not per message.
        let wait = if once {
            QUIET
        } else {
            crate::fleet_table::REDRAW
        };
        let message = match tokio::time::timeout(wait, broker.next()).await {
            Ok(message) => message,
            Err(_) if once => break,
            Err(_) => {
                table.tick(&rooms);
                continue;
            }
        };
        let Some(message) = message else {
            return Err(Failure(3, "lost the broker".into()));
        };
        let room = rooms.apply(prefix, &message.topic, &message.payload);
        if let Some(room) = room.filter(|_| !once) {
            table.changed(&rooms, &room, json_out);
        }
        if !once {
            table.tick(&rooms);
        }
    }
    table.print_all(&rooms, json_out);
    Ok(ExitCode::SUCCESS)
}

async fn watch(broker: &mut Broker, prefix: &str, json_out: bool) -> Result<ExitCode, Failure> {
    while let Some(message) = broker.next().await {
        let topic = String::from_utf8_lossy(&message.topic).into_owned();
        let Some(rest) = topic.strip_prefix(prefix).and_then(|t| t.strip_prefix('/')) else {
            continue;
        };
        let (room, what) = rest.split_once('/').unwrap_or((rest, ""));
        let payload = String::from_utf8_lossy(&message.payload);
        let line = match what.strip_prefix("event/") {
            Some(module) => {
                let params: Value = serde_json::from_str(&payload).unwrap_or(Value::Null);
                if json_out {
                    json!({"room": room, "module": module, "params": params}).to_string()
                } else {
                    format!("{room} {}", render::event_line(module, &params))
                }
            }
            None if json_out => json!({"room": room, "status": payload}).to_string(),
            None => format!("{} {room} is {payload}", render::clock()),
        };
        emit(&line);
    }
    Err(Failure(3, "lost the broker".into()))
}

/// A connection to the broker; its messages come through a channel.
struct Broker {
    client: AsyncClient,
    id: String,
    reply_prefix: String,
    incoming: mpsc::UnboundedReceiver<Packet>,
    /// Messages that arrived while waiting for a SUBACK (the retained ones of an earlier
    /// subscription), for `next`.
    early: std::collections::VecDeque<Publish>,
}

impl Broker {
    async fn connect(
        args: &FleetArgs,
        password: Option<String>,
        timeout: Duration,
    ) -> Result<Self, Failure> {
        let url =
            roomsd::config::BrokerUrl::try_from(args.broker.clone()).map_err(Failure::usage)?;
        let broker = url
            .0
            .ok_or_else(|| Failure::usage("--broker: empty (e.g. mqtt://broker:1883)"))?;
        let id = format!("roomsctl-{}-{}", std::process::id(), rand::random::<u32>());
        let mut options = MqttOptions::new(id.clone(), &broker.host, broker.port);
        roomsd::fleet::tune_options(&mut options);
        options.set_keep_alive(Duration::from_secs(30));
        if let Some(user) = &args.username {
            options.set_credentials(user.clone(), password.unwrap_or_default());
        }
        if broker.tls {
            let config = roomsd::config::MqttConfig {
                ca_file: args.ca_file.clone().unwrap_or_default(),
                ..Default::default()
            };
            let tls = roomsd::fleet::tls_config(&config).map_err(|e| Failure(3, e))?;
            options.set_transport(Transport::Tls(TlsConfiguration::Rustls(tls)));
        }
        let (client, mut eventloop) = AsyncClient::new(options, 64);
        let (tx, incoming) = mpsc::unbounded_channel();
        let first = tokio::time::timeout(timeout, eventloop.poll()).await;
        match first {
            Ok(Ok(Event::Incoming(Packet::ConnAck(_)))) => {}
            Ok(Ok(other)) => return Err(Failure(3, format!("unexpected first packet {other:?}"))),
            Ok(Err(error)) => {
                return Err(Failure(
                    3,
                    format!("cannot connect to {}: {error}", args.broker),
                ));
            }
            Err(_) => {
                return Err(Failure(
                    3,
                    format!("no answer from {} within {timeout:?}", args.broker),
                ));
            }
        }
        tokio::spawn(async move {
            loop {
                match eventloop.poll().await {
                    Ok(Event::Incoming(packet)) => {
                        if tx.send(packet).is_err() {
                            return;
                        }
                    }
                    Ok(Event::Outgoing(_)) => {}
                    Err(error) => {
                        eprintln!("roomsctl: lost the broker: {error}");
                        return;
                    }
                }
            }
        });
        Ok(Self {
            client,
            id,
            reply_prefix: args.reply_prefix.clone(),
            incoming,
            early: std::collections::VecDeque::new(),
        })
    }

    async fn subscribe(&mut self, filter: &str) -> Result<(), Failure> {
        let lost = |e| Failure(3, format!("cannot subscribe to {filter}: {e}"));
        self.client
            .subscribe(filter, QoS::AtLeastOnce)
            .await
            .map_err(lost)?;
        loop {
            match self.incoming.recv().await {
                Some(Packet::SubAck(ack)) => {
                    let refused = ack.return_codes.iter().any(|c| {
                        !matches!(
                            c,
                            rumqttc::v5::mqttbytes::v5::SubscribeReasonCode::Success(_)
                        )
                    });
                    if refused {
                        return Err(Failure(
                            3,
                            format!("the broker refused {filter}: {:?}", ack.return_codes),
                        ));
                    }
                    return Ok(());
                }
                Some(Packet::Publish(message)) => self.early.push_back(message),
                Some(_) => {}
                None => return Err(Failure(3, "lost the broker".into())),
            }
        }
    }

    /// The next message, retained or live; `None` once the connection is gone.
    async fn next(&mut self) -> Option<Publish> {
        if let Some(message) = self.early.pop_front() {
            return Some(message);
        }
        loop {
            match self.incoming.recv().await? {
                Packet::Publish(message) => return Some(message),
                _ => continue,
            }
        }
    }

    /// The `params` of the next event on `topic` whose `sub_event` is one of `names`; `None`
    /// once the connection is gone.
    async fn event(&mut self, topic: &str, names: &[&str]) -> Option<Value> {
        while let Some(message) = self.next().await {
            if message.topic != topic.as_bytes() {
                continue;
            }
            let Ok(params) = serde_json::from_slice::<Value>(&message.payload) else {
                continue;
            };
            if names.iter().any(|name| params["sub_event"] == *name) {
                return Some(params);
            }
        }
        None
    }

    /// Sends one request to `room` and waits for its answer on our own response topic.
    async fn request(
        &mut self,
        prefix: &str,
        room: &str,
        frame: &Value,
        timeout: Duration,
    ) -> Result<Value, Failure> {
        let reply_to = format!("{}/{}", self.reply_prefix, self.id);
        self.subscribe(&reply_to).await?;
        let correlation: Vec<u8> = rand::random::<u64>().to_be_bytes().to_vec();
        let properties = PublishProperties {
            response_topic: Some(reply_to.clone()),
            correlation_data: Some(correlation.clone().into()),
            ..PublishProperties::default()
        };
        let topic = format!("{prefix}/{room}/request");
        self.client
            .publish_with_properties(
                &topic,
                QoS::AtLeastOnce,
                false,
                frame.to_string(),
                properties,
            )
            .await
            .map_err(|e| Failure(3, format!("cannot send to {topic}: {e}")))?;
        // Other messages that come meanwhile (an outcome event can beat the answer) are kept
        // for `next`, in order.
        let mut meanwhile = Vec::new();
        let answer = tokio::time::timeout(timeout, async {
            while let Some(message) = self.next().await {
                let ours = message
                    .properties
                    .as_ref()
                    .and_then(|p| p.correlation_data.as_deref())
                    == Some(&correlation[..]);
                if ours {
                    return Some(message);
                }
                meanwhile.push(message);
            }
            None
        })
        .await;
        for message in meanwhile.into_iter().rev() {
            self.early.push_front(message);
        }
        let message = match answer {
            Ok(Some(message)) => message,
            Ok(None) => return Err(Failure(3, "lost the broker".into())),
            Err(_) => {
                return Err(Failure(
                    3,
                    format!(
                        "no answer from {room} within {timeout:?}: is it online (`roomsctl fleet \
                         status`), and may it publish to {reply_to} (the broker's ACL)?"
                    ),
                ));
            }
        };
        serde_json::from_slice(&message.payload).map_err(|e| {
            Failure(
                3,
                format!("{room} answered something that is not JSON: {e}"),
            )
        })
    }
}
