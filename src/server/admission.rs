//! Who may spend the daemon's resources before proving who they are.
//!
//! Three budgets, so that a client who never authenticates cannot keep one who does out:
//! - connections still in the handshake have a small budget of their own ([`Pending`]); when it
//!   is spent, one is closed to make room for the newcomer: the peer's own once it holds its
//!   share, and the oldest that has not sent a byte before any that has. Idle sockets only
//!   ever push each other out, and a real client, which sends its request at once and
//!   finishes in milliseconds, gets through;
//! - authenticated clients count against `max_connections` only once authenticated;
//! - wrong passwords make their peer wait, longer after each one ([`Guesses`]), and since a
//!   peer holds few handshakes at once, guessing is slowed to a crawl.

use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use tokio_util::sync::CancellationToken;

/// A client address as the budgets count it: the IPv4 address, or the IPv6 /64 (one host
/// usually has a whole /64 to pick addresses from).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Peer(u128);

impl From<IpAddr> for Peer {
    fn from(ip: IpAddr) -> Self {
        match ip.to_canonical() {
            IpAddr::V4(v4) => Self(u128::from(u32::from(v4))),
            IpAddr::V6(v6) => Self((u128::from(v6) & !u128::from(u64::MAX)) | (1 << 127)),
        }
    }
}

/// The connections still in the handshake, oldest first.
pub struct Pending {
    limit: usize,
    per_peer: usize,
    queue: Mutex<PendingQueue>,
}

#[derive(Default)]
struct PendingQueue {
    next_id: u64,
    entries: VecDeque<PendingEntry>,
}

struct PendingEntry {
    id: u64,
    peer: Peer,
    /// The client has sent something: it is making progress, not just holding a socket.
    spoke: Arc<AtomicBool>,
    /// A second handle on the connection's socket, to see whether bytes wait in it before
    /// the connection's own task has had a chance to read them.
    probe: Option<socket2::Socket>,
    evicted: CancellationToken,
}

impl PendingEntry {
    fn has_spoken(&self) -> bool {
        self.spoke.load(Ordering::Relaxed)
            || self.probe.as_ref().is_some_and(|socket| {
                let mut byte = [std::mem::MaybeUninit::uninit()];
                matches!(socket.peek(&mut byte), Ok(n) if n > 0)
            })
    }
}

/// A connection's place in the handshake budget, given up when dropped. `evicted` is
/// cancelled when a newer connection takes the place.
pub struct PendingSlot {
    pending: Arc<Pending>,
    id: u64,
    spoke: Arc<AtomicBool>,
    pub evicted: CancellationToken,
}

impl PendingSlot {
    /// The client sent its first bytes: it is closed to make room only after every silent one.
    pub fn spoke(&self) {
        self.spoke.store(true, Ordering::Relaxed);
    }
}

impl Pending {
    pub fn new(limit: usize, per_peer: usize) -> Arc<Self> {
        Arc::new(Self {
            limit: limit.max(1),
            per_peer: per_peer.max(1),
            queue: Mutex::default(),
        })
    }

    /// Takes a place for a new connection from `peer`, closing one to make room when needed:
    /// among the peer's own when it holds its share, else among all; the oldest silent one,
    /// else the oldest.
    /// `probe` is a second handle on its socket (non-blocking), if one could be had.
    pub fn arrive(self: &Arc<Self>, peer: Peer, probe: Option<socket2::Socket>) -> PendingSlot {
        let mut queue = self.queue.lock().unwrap_or_else(PoisonError::into_inner);
        let from_peer = queue.entries.iter().filter(|e| e.peer == peer).count();
        let victim = if from_peer >= self.per_peer {
            queue.victim(|e| e.peer == peer)
        } else if queue.entries.len() >= self.limit {
            queue.victim(|_| true)
        } else {
            None
        };
        if let Some(entry) = victim.and_then(|at| queue.entries.remove(at)) {
            entry.evicted.cancel();
        }
        queue.next_id += 1;
        let id = queue.next_id;
        let spoke = Arc::new(AtomicBool::new(false));
        let evicted = CancellationToken::new();
        queue.entries.push_back(PendingEntry {
            id,
            peer,
            spoke: spoke.clone(),
            probe,
            evicted: evicted.clone(),
        });
        PendingSlot {
            pending: self.clone(),
            id,
            spoke,
            evicted,
        }
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.queue.lock().unwrap().entries.len()
    }
}

impl PendingQueue {
    /// Where the connection to close is among those `eligible`: the oldest silent one, else
    /// the oldest.
    fn victim(&self, eligible: impl Fn(&PendingEntry) -> bool) -> Option<usize> {
        let silent = |e: &PendingEntry| eligible(e) && !e.has_spoken();
        (self.entries.iter().position(silent)).or_else(|| self.entries.iter().position(eligible))
    }
}

impl Drop for PendingSlot {
    fn drop(&mut self) {
        let mut queue = self
            .pending
            .queue
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        queue.entries.retain(|e| e.id != self.id);
    }
}

/// Wrong passwords per peer, to slow down guessing. After a few, a peer's passwords are
/// checked one at a time with a growing pause between them, however many connections it
/// opens; an attempt that would wait too long is turned away unchecked, so it tells the
/// guesser nothing.
#[derive(Default)]
pub struct Guesses {
    peers: Mutex<HashMap<Peer, Failures>>,
}

#[derive(Clone, Copy)]
struct Failures {
    count: u32,
    last: Instant,
    /// When the peer's next password may be checked.
    next_turn: Instant,
}

/// When a peer's password may be checked.
#[derive(Debug, PartialEq, Eq)]
pub enum Turn {
    Now,
    After(Duration),
    /// Not within [`MAX_WAIT`]: turn the attempt away, and say when to come back.
    Busy(Duration),
}

/// Wrong passwords answered at once; typing mistakes should not be punished.
const FREE_GUESSES: u32 = 2;
const FIRST_PAUSE: Duration = Duration::from_millis(250);
const MAX_PAUSE: Duration = Duration::from_secs(2);
/// The longest an attempt waits for its turn; under the default handshake deadline, so that
/// its answer still arrives.
const MAX_WAIT: Duration = Duration::from_millis(2500);
/// A peer's failures are forgotten after this long without a new one.
const FORGET_AFTER: Duration = Duration::from_secs(15 * 60);
/// Peers remembered at most, so that many addresses cannot grow the table without bound.
const MAX_PEERS: usize = 4096;

impl Guesses {
    /// Takes `peer`'s next turn to have its password checked, counting it as wrong until it
    /// proves right (the right one clears the peer's record).
    pub fn turn(&self, peer: Peer, now: Instant) -> Turn {
        let mut peers = self.peers.lock().unwrap_or_else(PoisonError::into_inner);
        let Some(failures) = peers.get_mut(&peer) else {
            return Turn::Now;
        };
        if now.duration_since(failures.last) >= FORGET_AFTER {
            peers.remove(&peer);
            return Turn::Now;
        }
        let slot = failures.next_turn.max(now);
        let wait = slot - now;
        if wait > MAX_WAIT {
            return Turn::Busy(wait);
        }
        // Counted as wrong already, so that attempts made side by side space out further.
        failures.count = failures.count.saturating_add(1);
        failures.next_turn = slot + pause_after(failures.count);
        if wait.is_zero() {
            Turn::Now
        } else {
            Turn::After(wait)
        }
    }

    /// Records a wrong password from `peer` (its turn counted it already); how many in a row.
    pub fn failed(&self, peer: Peer, now: Instant) -> u32 {
        let mut peers = self.peers.lock().unwrap_or_else(PoisonError::into_inner);
        if peers.len() >= MAX_PEERS && !peers.contains_key(&peer) {
            peers.retain(|_, f| now.duration_since(f.last) < FORGET_AFTER);
            if peers.len() >= MAX_PEERS
                && let Some(oldest) = peers.iter().min_by_key(|(_, f)| f.last).map(|(p, _)| *p)
            {
                peers.remove(&oldest);
            }
        }
        let failures = peers.entry(peer).or_insert(Failures {
            count: 1,
            last: now,
            next_turn: now + pause_after(1),
        });
        failures.last = now;
        failures.count
    }

    /// The right password: the peer starts afresh.
    pub fn succeeded(&self, peer: Peer) {
        let mut peers = self.peers.lock().unwrap_or_else(PoisonError::into_inner);
        peers.remove(&peer);
    }
}

/// The pause after the `n`th wrong password in a row before the next may be checked: none for
/// the first few, then doubling up to [`MAX_PAUSE`].
fn pause_after(n: u32) -> Duration {
    match n.checked_sub(FREE_GUESSES + 1) {
        None => Duration::ZERO,
        Some(doublings) => FIRST_PAUSE
            .saturating_mul(1 << doublings.min(16))
            .min(MAX_PAUSE),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn peer(last: u8) -> Peer {
        Peer::from(IpAddr::from([192, 0, 2, last]))
    }

    #[test]
    fn the_oldest_handshake_makes_room() {
        let pending = Pending::new(2, 2);
        let first = pending.arrive(peer(1), None);
        let second = pending.arrive(peer(2), None);
        let third = pending.arrive(peer(3), None);
        assert!(first.evicted.is_cancelled());
        assert!(!second.evicted.is_cancelled());
        assert!(!third.evicted.is_cancelled());
        assert_eq!(pending.len(), 2);
        drop(third);
        assert_eq!(
            pending.len(),
            1,
            "a finished handshake gives its place back"
        );
    }

    #[test]
    fn a_peer_past_its_share_pushes_out_its_own() {
        let pending = Pending::new(10, 2);
        let other = pending.arrive(peer(9), None);
        let a = pending.arrive(peer(1), None);
        let b = pending.arrive(peer(1), None);
        let c = pending.arrive(peer(1), None);
        assert!(a.evicted.is_cancelled(), "its own oldest");
        assert!(!other.evicted.is_cancelled(), "not someone else's");
        assert!(!b.evicted.is_cancelled() && !c.evicted.is_cancelled());
    }

    #[test]
    fn silent_sockets_go_before_clients_that_spoke() {
        let pending = Pending::new(3, 3);
        let talking = pending.arrive(peer(1), None);
        talking.spoke();
        let silent = pending.arrive(peer(1), None);
        let other = pending.arrive(peer(2), None);
        let newcomer = pending.arrive(peer(3), None);
        assert!(!talking.evicted.is_cancelled(), "older, but it spoke");
        assert!(silent.evicted.is_cancelled());
        other.spoke();
        newcomer.spoke();
        let last = pending.arrive(peer(4), None);
        assert!(talking.evicted.is_cancelled(), "all spoke: the oldest goes");
        assert!(!last.evicted.is_cancelled());
    }

    #[test]
    fn ipv6_peers_are_counted_per_64() {
        let a: IpAddr = "2001:db8:1:2::1".parse().unwrap();
        let b: IpAddr = "2001:db8:1:2:ffff::9".parse().unwrap();
        let c: IpAddr = "2001:db8:1:3::1".parse().unwrap();
        assert_eq!(Peer::from(a), Peer::from(b));
        assert_ne!(Peer::from(a), Peer::from(c));
        let mapped: IpAddr = "::ffff:192.0.2.1".parse().unwrap();
        assert_eq!(Peer::from(mapped), peer(1));
        assert_ne!(Peer::from("::c000:201".parse::<IpAddr>().unwrap()), peer(1));
    }

    /// `n` attempts in a row from one peer, each answered (wrong) as soon as its turn comes;
    /// how long each waited.
    fn waits(guesses: &Guesses, peer: Peer, n: usize, mut now: Instant) -> Vec<u128> {
        (0..n)
            .map(|_| {
                let wait = match guesses.turn(peer, now) {
                    Turn::Now => Duration::ZERO,
                    Turn::After(wait) => wait,
                    Turn::Busy(_) => panic!("one at a time is never turned away"),
                };
                now += wait;
                guesses.failed(peer, now);
                wait.as_millis()
            })
            .collect()
    }

    #[test]
    fn guessing_waits_longer_after_a_few_failures() {
        let guesses = Guesses::default();
        let now = Instant::now();
        assert_eq!(
            waits(&guesses, peer(1), 8, now),
            [0, 0, 0, 250, 500, 1000, 2000, 2000]
        );
        assert_eq!(guesses.turn(peer(2), now), Turn::Now, "per peer");
        guesses.succeeded(peer(1));
        assert_eq!(
            guesses.turn(peer(1), now),
            Turn::Now,
            "the right one clears it"
        );
        waits(&guesses, peer(3), 5, now);
        let later = now + FORGET_AFTER + Duration::from_secs(60);
        assert_eq!(
            guesses.turn(peer(3), later),
            Turn::Now,
            "forgotten after a while"
        );
    }

    #[test]
    fn many_connections_do_not_guess_faster() {
        let guesses = Guesses::default();
        let now = Instant::now();
        waits(&guesses, peer(1), 3, now);
        // Ten at once: one turn each, spaced out, and those that would wait too long are
        // turned away without a check.
        let turns: Vec<_> = (0..10).map(|_| guesses.turn(peer(1), now)).collect();
        let ms = |t: &Turn| match t {
            Turn::Now => 0,
            Turn::After(d) | Turn::Busy(d) => d.as_millis(),
        };
        let checked: Vec<_> = turns
            .iter()
            .filter(|t| !matches!(t, Turn::Busy(_)))
            .map(ms)
            .collect();
        assert_eq!(checked, [250, 750, 1750]);
        assert!(turns[3..].iter().all(|t| matches!(t, Turn::Busy(_))));
    }

    #[test]
    fn the_table_of_guessers_is_bounded() {
        let guesses = Guesses::default();
        let now = Instant::now();
        for n in 0..(u32::try_from(MAX_PEERS).unwrap() + 100) {
            guesses.failed(Peer::from(IpAddr::from(n.to_be_bytes())), now);
        }
        assert!(guesses.peers.lock().unwrap().len() <= MAX_PEERS);
    }
}
