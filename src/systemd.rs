//! What systemd hands a service and expects back: readiness and stopping notices, watchdog
//! pings (sd_notify(3)) and socket activation (sd_listen_fds(3)). Outside systemd the
//! environment variables are absent and every function here does nothing.

use std::io;
use std::net::{SocketAddr, TcpListener};
use std::os::fd::{FromRawFd, OwnedFd};

use sd_notify::NotifyState;

use crate::room::owner::Heartbeat;

/// The listening socket systemd passed (`roomsd.socket`), if it passed one.
pub fn activated_listener() -> io::Result<Option<TcpListener>> {
    let mut fds = sd_notify::listen_fds()?;
    let Some(fd) = fds.next() else {
        return Ok(None);
    };
    if fds.len() > 0 {
        tracing::warn!("systemd passed more than one socket; serving the first only");
    }
    // SAFETY: LISTEN_PID names this process, so systemd hands it the descriptors from 3 on, to
    // own; this is the only place that takes them, once, at start-up.
    let socket = socket2::Socket::from(unsafe { OwnedFd::from_raw_fd(fd) });
    let is_tcp =
        socket.r#type()? == socket2::Type::STREAM && socket.local_addr()?.as_socket().is_some();
    if !is_tcp {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "the socket systemd passed is not a TCP socket: use ListenStream=ADDRESS:PORT",
        ));
    }
    Ok(Some(socket.into()))
}

/// Pings for `WatchdogSec=`, twice per period, from the room owner's loop.
pub fn watchdog() -> Option<Heartbeat> {
    let timeout = sd_notify::watchdog_enabled()?;
    Some(Heartbeat {
        // tokio's interval panics on zero; a watchdog this short is a misconfiguration anyway.
        every: (timeout / 2).max(std::time::Duration::from_millis(10)),
        beat: Box::new(|| notify(&[NotifyState::Watchdog])),
    })
}

/// `Type=notify`: the socket accepts connections.
pub fn ready(addr: SocketAddr) {
    let status = format!("serving ws://{addr}/");
    notify(&[NotifyState::Ready, NotifyState::Status(&status)]);
}

pub fn stopping() {
    notify(&[NotifyState::Stopping]);
}

fn notify(states: &[NotifyState]) {
    if let Err(error) = sd_notify::notify(states) {
        tracing::warn!(%error, "cannot notify systemd");
    }
}
