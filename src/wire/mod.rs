//! The wire form of the Rooms protocol: request parsing, the byte-exact serializer, response,
//! error and event envelopes, and error codes. No I/O lives here.
//!
//! Drivers match responses with regular expressions on the raw byte stream, so the exact bytes
//! are part of the contract (PROTOCOL.md §2): fixed key order, `", "` and `": "` separators, one
//! line, UTF-8 text.

mod code;
mod envelope;
mod format;
mod request;

pub use code::ErrorCode;
pub use envelope::{
    Outcome, Refusal, batch, event, protocol_error, query_ok, query_ok_envelope, raw_result, reply,
};
pub use format::to_wire;
pub use request::{Incoming, ProtocolError, Request, parse};

/// The longest `request_key` a call may carry, in bytes: part of the protocol (the schemas say
/// it), kept by the server's store of answers.
pub const MAX_REQUEST_KEY_BYTES: usize = 128;
