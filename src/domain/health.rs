//! How the meeting service is doing, as `Query ["Backend"]` shows it (beyond the vendor
//! protocol). The adapters measure it (`backend::HealthTracker`); the room shows it.

/// The service's health.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Health {
    /// The service answers.
    pub connected: bool,
    /// The last thing that went wrong, naming the service's own error; `""` if nothing has.
    pub last_error: String,
    /// When the service last answered, in Unix seconds; 0 if it never has.
    pub last_ok_at: i64,
    /// How long its last answer took.
    pub latency_ms: u64,
}

impl Health {
    /// Before the service has been reached.
    pub fn unknown() -> Self {
        Self {
            connected: false,
            last_error: String::new(),
            last_ok_at: 0,
            latency_ms: 0,
        }
    }
}
