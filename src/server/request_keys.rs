//! Idempotent calls (docs/CONTINUITY.md): the answers to calls that carried a `request_key`,
//! kept per daemon so that a retry, on any connection, gets the first answer instead of
//! running the action again.
//!
//! Bounded: at most [`MAX_KEYS`] keys, each kept [`KEEP`] at most, each answer at most
//! [`MAX_ANSWER_BYTES`] (a larger one is not kept, so its retry runs again), and keys of at
//! most [`MAX_KEY_BYTES`]. When full, the oldest finished keys go first.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use tokio::sync::watch;

pub const MAX_KEYS: usize = 1024;
pub use crate::wire::MAX_REQUEST_KEY_BYTES as MAX_KEY_BYTES;
pub const MAX_ANSWER_BYTES: usize = 4096;
pub const KEEP: Duration = Duration::from_secs(600);

/// What a call with a key should do.
pub enum Claim<'a, T: Clone> {
    /// The first with this key: run it, then [`First::finish`].
    First(First<'a, T>),
    /// Answered already: send this again.
    Again(T),
    /// The first call with this key is still running: wait for its answer (`None` when it
    /// ended without one, then claim again).
    Wait(watch::Receiver<Option<T>>),
    /// The key was used for another call (what it was for).
    Other(String),
}

enum Entry<T> {
    Running(watch::Receiver<Option<T>>),
    Done(T),
}

struct Kept<T> {
    what: String,
    entry: Entry<T>,
    at: Instant,
    generation: u64,
}

struct Store<T> {
    keys: HashMap<String, Kept<T>>,
    /// Keys in the order they were claimed, with the generation that claimed them.
    order: VecDeque<(String, u64)>,
    next_generation: u64,
}

pub struct RequestKeys<T> {
    store: Mutex<Store<T>>,
}

impl<T> Default for RequestKeys<T> {
    fn default() -> Self {
        Self {
            store: Mutex::new(Store {
                keys: HashMap::new(),
                order: VecDeque::new(),
                next_generation: 0,
            }),
        }
    }
}

/// The right to run the first call with a key. Dropped without [`First::finish`] (the call
/// was cut short), the key is forgotten and whoever waits claims it again.
pub struct First<'a, T: Clone> {
    keys: &'a RequestKeys<T>,
    key: String,
    generation: u64,
    answer: watch::Sender<Option<T>>,
    finished: bool,
}

impl<T: Clone> First<'_, T> {
    /// Keeps the answer (unless `size` is over [`MAX_ANSWER_BYTES`]) and hands it to waiters.
    pub fn finish(mut self, answer: T, size: usize) {
        self.finished = true;
        let mut store = self.keys.lock();
        if size <= MAX_ANSWER_BYTES {
            if let Some(kept) = store.keys.get_mut(&self.key)
                && kept.generation == self.generation
            {
                kept.entry = Entry::Done(answer.clone());
            }
        } else {
            store.forget(&self.key, self.generation);
        }
        drop(store);
        self.answer.send_replace(Some(answer));
    }
}

impl<T: Clone> Drop for First<'_, T> {
    fn drop(&mut self) {
        if !self.finished {
            self.keys.lock().forget(&self.key, self.generation);
        }
    }
}

impl<T> Store<T> {
    fn forget(&mut self, key: &str, generation: u64) {
        if self
            .keys
            .get(key)
            .is_some_and(|k| k.generation == generation)
        {
            self.keys.remove(key);
        }
    }

    /// Drops expired keys, then finished ones from the oldest while the store is full.
    fn make_room(&mut self, now: Instant) {
        while let Some((key, generation)) = self.order.front() {
            let kept = self.keys.get(key).filter(|k| k.generation == *generation);
            let drop_it = match kept {
                None => true,
                Some(k) => {
                    now.duration_since(k.at) > KEEP
                        || (self.keys.len() >= MAX_KEYS && matches!(k.entry, Entry::Done(_)))
                }
            };
            if !drop_it {
                break;
            }
            let (key, generation) = self.order.pop_front().expect("a front");
            self.forget(&key, generation);
        }
    }
}

impl<T: Clone> RequestKeys<T> {
    fn lock(&self) -> std::sync::MutexGuard<'_, Store<T>> {
        self.store.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// What a call with `key`, for `what` (its method and action), should do.
    pub fn claim(&self, key: &str, what: &str) -> Claim<'_, T> {
        let now = Instant::now();
        let mut store = self.lock();
        store.make_room(now);
        if let Some(kept) = store.keys.get(key)
            && now.duration_since(kept.at) <= KEEP
        {
            if kept.what != what {
                return Claim::Other(kept.what.clone());
            }
            return match &kept.entry {
                Entry::Done(answer) => Claim::Again(answer.clone()),
                Entry::Running(answer) => Claim::Wait(answer.clone()),
            };
        }
        let (answer, receiver) = watch::channel(None);
        let generation = store.next_generation;
        store.next_generation += 1;
        // Full of running calls (more than connections can make): run it unkept.
        if store.keys.len() < MAX_KEYS {
            store.keys.insert(
                key.to_owned(),
                Kept {
                    what: what.to_owned(),
                    entry: Entry::Running(receiver),
                    at: now,
                    generation,
                },
            );
            store.order.push_back((key.to_owned(), generation));
        }
        Claim::First(First {
            keys: self,
            key: key.to_owned(),
            generation,
            answer,
            finished: false,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_is_answered_once_then_again() {
        let keys = RequestKeys::<u32>::default();
        let Claim::First(first) = keys.claim("k", "Call/Meeting JoinMeeting") else {
            panic!("first")
        };
        assert!(matches!(
            keys.claim("k", "Call/Meeting JoinMeeting"),
            Claim::Wait(_)
        ));
        first.finish(7, 10);
        assert!(matches!(
            keys.claim("k", "Call/Meeting JoinMeeting"),
            Claim::Again(7)
        ));
        assert!(matches!(
            keys.claim("k", "Call/Device EnableMic"),
            Claim::Other(_)
        ));
    }

    #[test]
    fn a_call_cut_short_forgets_its_key() {
        let keys = RequestKeys::<u32>::default();
        let Claim::First(first) = keys.claim("k", "a") else {
            panic!("first")
        };
        let Claim::Wait(waiting) = keys.claim("k", "a") else {
            panic!("wait")
        };
        drop(first);
        assert!(waiting.has_changed().is_err(), "the waiter learns it");
        assert!(matches!(keys.claim("k", "a"), Claim::First(_)));
    }

    #[test]
    fn large_answers_are_not_kept_and_the_store_is_bounded() {
        let keys = RequestKeys::<u32>::default();
        let Claim::First(first) = keys.claim("big", "a") else {
            panic!("first")
        };
        first.finish(1, MAX_ANSWER_BYTES + 1);
        assert!(matches!(keys.claim("big", "a"), Claim::First(_)));
        for n in 0..MAX_KEYS + 10 {
            if let Claim::First(first) = keys.claim(&n.to_string(), "a") {
                first.finish(2, 1);
            }
        }
        let store = keys.lock();
        assert!(store.keys.len() <= MAX_KEYS);
        assert!(!store.keys.contains_key("0"), "the oldest went first");
        assert!(store.keys.contains_key(&(MAX_KEYS + 9).to_string()));
    }
}
