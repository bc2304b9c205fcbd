//! The in-band error codes of PROTOCOL.md §5 (`result.error_code`).

use serde::Serialize;

/// A Rooms error code. A newtype rather than an enum: backends map foreign codes onto these, and
/// the numeric value is what the wire carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct ErrorCode(pub u32);

impl ErrorCode {
    pub const OK: Self = Self(0);
    pub const FAIL: Self = Self(1);
    pub const QUERY_PATH: Self = Self(6);
    pub const SUBSCRIBE_PATH: Self = Self(7);
    pub const AUTH_FAILED: Self = Self(5);
    pub const PARAMETER: Self = Self(8);
    pub const UNSUPPORTED: Self = Self(9);
    pub const NETWORK: Self = Self(12);
    pub const REPEAT_OPERATION: Self = Self(17);
    /// roomsd: a `Subscribe` resuming from events no longer kept, or from another epoch.
    pub const RESUME_GONE: Self = Self(18);
    pub const UNKNOWN: Self = Self(9999);

    pub const NOT_IN_MEETING: Self = Self(10000);
    pub const ALREADY_IN_MEETING: Self = Self(10001);
    pub const DISSOLVE_FAILED: Self = Self(10003);
    pub const LEAVE_FAILED: Self = Self(10004);
    pub const JOIN_FAILED: Self = Self(10005);
    pub const NO_PERMISSION_TO_JOIN: Self = Self(10007);
    pub const MEETING_CANCELLED: Self = Self(10008);
    pub const MEETING_CODE_INVALID: Self = Self(10010);
    pub const MEETING_LOCKED: Self = Self(10015);
    pub const NO_ENTERPRISE_PERMISSION: Self = Self(10016);
    pub const PASSWORD_REQUIRED: Self = Self(10018);
    pub const NO_SUCH_MEETING: Self = Self(10019);
    pub const WRONG_PASSWORD: Self = Self(10020);
    pub const NOT_HOST: Self = Self(10022);
    pub const INSTANT_NOT_ALLOWED: Self = Self(10024);
    pub const CANNOT_JOIN_PERSONAL_MEETING: Self = Self(10030);
    pub const UNKNOWN_LAYOUT: Self = Self(10031);
    pub const CANNOT_SWITCH_LAYOUT: Self = Self(10032);
    pub const CANNOT_START_WHILE_SHARING: Self = Self(10026);
    pub const CANNOT_JOIN_WHILE_SHARING: Self = Self(10027);

    pub const CAMERA_ALREADY_ON: Self = Self(20001);
    pub const CAMERA_ALREADY_OFF: Self = Self(20002);
    pub const MIC_ALREADY_ON: Self = Self(20005);
    pub const MIC_ALREADY_OFF: Self = Self(20006);

    pub const USER_NOT_IN_MEETING: Self = Self(50000);
    pub const RECORDING_DISABLED: Self = Self(50002);
    pub const ALREADY_RECORDING: Self = Self(50003);
    pub const REQUEST_RECORD_FIRST: Self = Self(50004);

    pub fn is_ok(self) -> bool {
        self == Self::OK
    }
}

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}
