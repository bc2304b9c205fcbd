//! `roomsd` as systemd runs it: readiness, watchdog pings and the stopping notice over a
//! `NOTIFY_SOCKET` the test listens on, and socket activation through `systemd-socket-activate`.

use crate::common;

use std::os::unix::net::UnixDatagram;
use std::process::{Command, Stdio};
use std::time::Duration;

use common::{Client, Running, free_port};

const ROOMSD: &str = env!("CARGO_BIN_EXE_roomsd");

/// What the service manager would hear.
struct NotifySocket {
    socket: UnixDatagram,
    _dir: tempfile::TempDir,
    path: std::path::PathBuf,
}

impl NotifySocket {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("notify");
        let socket = UnixDatagram::bind(&path).unwrap();
        socket
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        Self {
            socket,
            _dir: dir,
            path,
        }
    }

    fn next(&self) -> String {
        let mut buf = [0; 4096];
        let n = self.socket.recv(&mut buf).expect("a notification");
        String::from_utf8(buf[..n].to_vec()).unwrap()
    }
}

#[tokio::test]
async fn tells_systemd_it_is_ready_alive_and_stopping() {
    let notify = NotifySocket::new();
    let port = free_port();
    let child = Command::new(ROOMSD)
        .args(common::NO_SYSTEM_CONFIG)
        .args(["--listen", &format!("127.0.0.1:{port}")])
        .env("NOTIFY_SOCKET", &notify.path)
        .env("WATCHDOG_USEC", "200000")
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut daemon = Running(child);

    // The owner's loop may ping the watchdog before the binary says READY: pings carry no
    // order with readiness, and systemd takes them at any time.
    let mut ready = notify.next();
    while ready == "WATCHDOG=1\n" {
        ready = notify.next();
    }
    assert!(ready.contains("READY=1\n"), "{ready:?}");
    assert!(
        ready.contains(&format!("STATUS=serving ws://127.0.0.1:{port}/\n")),
        "{ready:?}"
    );
    // Ready means the socket accepts.
    let mut client = Client::connect(([127, 0, 0, 1], port).into()).await;
    assert_eq!(client.status().await, 0);

    // WatchdogSec=200ms: the owner's loop pings every 100 ms.
    for _ in 0..3 {
        assert_eq!(notify.next(), "WATCHDOG=1\n");
    }

    let killed = Command::new("kill")
        .args(["-TERM", &daemon.0.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let stopping = (0..20).map(|_| notify.next()).find(|n| n != "WATCHDOG=1\n");
    assert_eq!(stopping.as_deref(), Some("STOPPING=1\n"));
    let status = daemon.0.wait().unwrap();
    assert!(status.success(), "exit status {status}");
}

#[tokio::test]
async fn serves_the_socket_systemd_passes() {
    let Ok(activate) = which("systemd-socket-activate") else {
        panic!(
            "systemd-socket-activate is missing: install Debian's systemd package (.ci/run does)"
        );
    };
    let port = free_port();
    // server.listen names another port: the passed socket wins.
    let other = free_port();
    let child = Command::new(activate)
        .args(["--listen", &format!("127.0.0.1:{port}"), ROOMSD])
        .args(common::NO_SYSTEM_CONFIG)
        .args(["--listen", &format!("127.0.0.1:{other}")])
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let _daemon = Running(child);
    // systemd-socket-activate starts roomsd on the first connection, which waits in the
    // socket's backlog until roomsd accepts it.
    let addr = ([127, 0, 0, 1], port).into();
    let mut client = None;
    for _ in 0..100 {
        if let Ok(c) = Client::connect_with(addr, None).await {
            client = Some(c);
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let mut client = client.expect("roomsd serves the passed socket");
    assert_eq!(client.status().await, 0);
    assert!(
        std::net::TcpStream::connect(("127.0.0.1", other)).is_err(),
        "server.listen is not bound"
    );
}

fn which(program: &str) -> Result<std::path::PathBuf, ()> {
    std::env::var_os("PATH")
        .into_iter()
        .flat_map(|paths| std::env::split_paths(&paths).collect::<Vec<_>>())
        .map(|dir| dir.join(program))
        .find(|path| path.is_file())
        .ok_or(())
}
