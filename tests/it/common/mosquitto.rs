//! A real Mosquitto for the fleet tests, started on a free loopback port with a generated
//! configuration (password file and ACLs), and an MQTT 5 test client.
//!
//! Users: each room is a user named like its room id, allowed `rooms/<its id>/#` only (the ACL
//! pattern `rooms/%u/#`) and answers to `replies/#`; `operator` reads and commands every room;
//! `viewer` reads every room and may not send requests.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use rumqttc::v5::mqttbytes::QoS;
use rumqttc::v5::mqttbytes::v5::{Packet, Publish, PublishProperties};
use rumqttc::v5::{AsyncClient, Event, MqttOptions};
use tokio::sync::mpsc;

use super::WAIT;

pub const ROOM_PASSWORD: &str = "room-secret";
pub const OPERATOR: (&str, &str) = ("operator", "op-secret");
pub const VIEWER: (&str, &str) = ("viewer", "view-secret");

const ACL: &str = "\
pattern readwrite rooms/%u/#
pattern write replies/#
pattern write homeassistant/+/roomsd_%u/#

user operator
topic readwrite rooms/#
topic readwrite replies/#
topic read homeassistant/#

user viewer
topic read rooms/#
topic read homeassistant/#
";

pub struct Mosquitto {
    child: Option<Child>,
    pub port: u16,
    dir: tempfile::TempDir,
    /// With TLS: the CA's certificate, PEM, for the clients.
    pub ca_file: Option<PathBuf>,
}

impl Mosquitto {
    /// A broker with users for `rooms` (each with [`ROOM_PASSWORD`]), the operator and the viewer.
    pub fn start(rooms: &[&str]) -> Self {
        Self::start_with(rooms, false)
    }

    /// The same on a TLS listener, with a CA generated for the test.
    pub fn start_tls(rooms: &[&str]) -> Self {
        Self::start_with(rooms, true)
    }

    fn start_with(rooms: &[&str], tls: bool) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let passwd = dir.path().join("passwd");
        std::fs::write(&passwd, "").unwrap();
        let users = rooms
            .iter()
            .map(|r| (*r, ROOM_PASSWORD))
            .chain([OPERATOR, VIEWER]);
        for (user, password) in users {
            let status = Command::new("mosquitto_passwd")
                .arg("-b")
                .arg(&passwd)
                .args([user, password])
                .stderr(Stdio::null())
                .status()
                .expect("mosquitto_passwd runs (apt-get install mosquitto)");
            assert!(status.success());
        }
        std::fs::write(dir.path().join("acl"), ACL).unwrap();
        let port = super::free_port();
        let mut conf = format!(
            "listener {port} 127.0.0.1\nallow_anonymous false\npassword_file {}\nacl_file {}\n\
             persistence false\nlog_dest none\n\
             # As root, mosquitto would drop to its own user, who cannot read the test's files.\n\
             user {}\n",
            passwd.display(),
            dir.path().join("acl").display(),
            std::env::var("USER")
                .ok()
                .filter(|u| !u.is_empty())
                .unwrap_or_else(|| "root".into())
        );
        let mut ca_file = None;
        if tls {
            let (ca, cert, key) = test_certificates(dir.path());
            conf.push_str(&format!(
                "cafile {}\ncertfile {}\nkeyfile {}\n",
                ca.display(),
                cert.display(),
                key.display()
            ));
            ca_file = Some(ca);
        }
        std::fs::write(dir.path().join("mosquitto.conf"), conf).unwrap();
        let mut broker = Self {
            child: None,
            port,
            dir,
            ca_file,
        };
        broker.restart();
        broker
    }

    pub fn url(&self) -> String {
        let scheme = if self.ca_file.is_some() {
            "mqtts"
        } else {
            "mqtt"
        };
        format!("{scheme}://127.0.0.1:{}", self.port)
    }

    /// Kills the broker at once (no goodbye to its clients); it keeps nothing.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts the broker again on the same port, once it accepts connections.
    pub fn restart(&mut self) {
        self.kill();
        let child = Command::new("mosquitto")
            .arg("-c")
            .arg(self.dir.path().join("mosquitto.conf"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("mosquitto starts (apt-get install mosquitto)");
        self.child = Some(child);
        let deadline = std::time::Instant::now() + WAIT;
        while std::net::TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            assert!(std::time::Instant::now() < deadline, "mosquitto listens");
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Mosquitto {
    fn drop(&mut self) {
        self.kill();
    }
}

/// A CA and a certificate for 127.0.0.1 it signed, made with the openssl command.
fn test_certificates(dir: &std::path::Path) -> (PathBuf, PathBuf, PathBuf) {
    let run = |args: &[&str]| {
        let status = Command::new("openssl")
            .args(args)
            .current_dir(dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .expect("openssl runs");
        assert!(status.success(), "openssl {args:?}");
    };
    run(&[
        "req",
        "-x509",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-nodes",
        "-keyout",
        "ca.key",
        "-out",
        "ca.pem",
        "-days",
        "2",
        "-subj",
        "/CN=roomsd test CA",
        "-addext",
        "basicConstraints=critical,CA:TRUE",
        "-addext",
        "keyUsage=critical,keyCertSign",
    ]);
    run(&[
        "req",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-nodes",
        "-keyout",
        "broker.key",
        "-out",
        "broker.csr",
        "-subj",
        "/CN=127.0.0.1",
    ]);
    std::fs::write(
        dir.join("ext.cnf"),
        "subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n",
    )
    .unwrap();
    run(&[
        "x509",
        "-req",
        "-in",
        "broker.csr",
        "-CA",
        "ca.pem",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-out",
        "broker.pem",
        "-days",
        "2",
        "-extfile",
        "ext.cnf",
    ]);
    (
        dir.join("ca.pem"),
        dir.join("broker.pem"),
        dir.join("broker.key"),
    )
}

/// An MQTT 5 client of the test, on its own task; what arrives comes through a channel.
pub struct Client {
    pub client: AsyncClient,
    incoming: mpsc::UnboundedReceiver<Packet>,
    task: tokio::task::JoinHandle<()>,
}

impl Client {
    pub async fn connect(broker: &Mosquitto, (user, password): (&str, &str)) -> Self {
        let mut options = MqttOptions::new(
            format!("test-{user}-{}", rand_suffix()),
            "127.0.0.1",
            broker.port,
        );
        options.set_credentials(user, password);
        roomsd::fleet::tune_options(&mut options);
        let (client, mut eventloop) = AsyncClient::new(options, 64);
        let (tx, incoming) = mpsc::unbounded_channel();
        let task = tokio::spawn(async move {
            loop {
                match eventloop.poll().await {
                    Ok(Event::Incoming(packet)) => {
                        if tx.send(packet).is_err() {
                            return;
                        }
                    }
                    Ok(Event::Outgoing(_)) => {}
                    Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
                }
            }
        });
        let mut me = Self {
            client,
            incoming,
            task,
        };
        me.next(|p| matches!(p, Packet::ConnAck(_))).await;
        me
    }

    /// The next packet that `pick` wants; fails the test after [`WAIT`].
    pub async fn next(&mut self, mut pick: impl FnMut(&Packet) -> bool) -> Packet {
        tokio::time::timeout(WAIT * 2, async {
            loop {
                let packet = self.incoming.recv().await.expect("the client runs");
                if pick(&packet) {
                    return packet;
                }
            }
        })
        .await
        .expect("the awaited MQTT packet arrives")
    }

    pub async fn subscribe(&mut self, filter: &str) {
        self.client
            .subscribe(filter, QoS::AtLeastOnce)
            .await
            .unwrap();
        self.next(|p| matches!(p, Packet::SubAck(_))).await;
    }

    /// The next message on `topic`.
    pub async fn message(&mut self, topic: &str) -> Publish {
        match self
            .next(|p| matches!(p, Packet::Publish(m) if m.topic == topic.as_bytes()))
            .await
        {
            Packet::Publish(message) => message,
            _ => unreachable!(),
        }
    }

    /// The next message on `topic` whose payload `pick` wants, as text.
    pub async fn text_where(&mut self, topic: &str, pick: impl Fn(&str) -> bool) -> String {
        loop {
            let message = self.message(topic).await;
            let text = String::from_utf8(message.payload.to_vec()).unwrap();
            if pick(&text) {
                return text;
            }
        }
    }

    /// Sends a request frame the MQTT 5 way: a response topic and correlation data.
    pub async fn request_v5(
        &self,
        room_topic: &str,
        frame: &str,
        reply_to: &str,
        correlation: &[u8],
    ) {
        let properties = PublishProperties {
            response_topic: Some(reply_to.into()),
            correlation_data: Some(correlation.to_vec().into()),
            ..PublishProperties::default()
        };
        self.client
            .publish_with_properties(
                room_topic,
                QoS::AtLeastOnce,
                false,
                frame.to_owned(),
                properties,
            )
            .await
            .unwrap();
    }
}

impl Drop for Client {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn rand_suffix() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(0);
    u64::from(std::process::id()) * 1000 + NEXT.fetch_add(1, Ordering::Relaxed)
}
