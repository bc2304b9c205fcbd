//! A TCP relay in front of the daemon whose connections a test can cut, as a Wi-Fi drop does.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use tokio::net::TcpListener;
use tokio::task::JoinHandle;

/// A TCP relay in front of the daemon whose connections the test can cut, as a Wi-Fi drop does.
pub struct Relay {
    pub addr: SocketAddr,
    open: Arc<Mutex<Vec<JoinHandle<()>>>>,
}

impl Relay {
    pub async fn start(to: SocketAddr) -> Relay {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let open = Arc::new(Mutex::new(Vec::new()));
        let tasks = open.clone();
        tokio::spawn(async move {
            while let Ok((mut client, _)) = listener.accept().await {
                let relay = tokio::spawn(async move {
                    let mut daemon = tokio::net::TcpStream::connect(to).await.unwrap();
                    let _ = tokio::io::copy_bidirectional(&mut client, &mut daemon).await;
                });
                tasks.lock().unwrap().push(relay);
            }
        });
        Relay { addr, open }
    }

    /// Drops every connection through the relay; new ones are relayed again.
    pub fn cut(&self) {
        for relay in self.open.lock().unwrap().drain(..) {
            relay.abort();
        }
    }
}
