//! What a meeting service can do and what its meeting codes look like, as data. Each adapter
//! declares its [`Capability`] list and its [`CodeRule`] (`backend::SERVICES` lists them);
//! the room refuses what the service cannot do (code 9, naming the service) from this
//! declaration, checks typed codes with the rule, and shows both in `Query ["Backend"]` so that a
//! panel can grey out what cannot work and validate a code before sending it.

use schemars::JsonSchema;
use serde::Serialize;

use super::meeting::ControlAction;
use crate::wire::{ErrorCode, Refusal};

/// One thing a meeting service may or may not be able to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Capability {
    /// `StartMeeting` `instant`.
    StartInstant,
    /// `StartMeeting` `pmi`: the room's personal meeting room.
    StartPmi,
    /// `JoinMeeting`.
    Join,
    /// `LeaveMeeting` tells the service. Without it the room leaves on its own (its media
    /// client hangs up) and the service is not told: leaving is never refused.
    Leave,
    /// `DissolveMeeting`.
    Dissolve,
    /// The service reports who else is in the meeting (`Query ["Members"]`, `MembersChanged`).
    MemberList,
    /// `MuteMember` and `MuteAll`.
    Mute,
    /// `StopVideo`.
    StopVideo,
    /// `RemoveMember`.
    RemoveMember,
    /// `RequestRecord` and `StartRecord`.
    Recording,
    /// The scheduled meetings (`meeting_list`).
    MeetingList,
    /// The room notices when the meeting ends on the service (host ended it, the room was
    /// removed): without it the room stays in an ended meeting until it is told to leave.
    EndDetection,
    /// The room's microphone and camera changes in a meeting are told to the service.
    Media,
}

impl Capability {
    pub const ALL: [Capability; 13] = [
        Self::StartInstant,
        Self::StartPmi,
        Self::Join,
        Self::Leave,
        Self::Dissolve,
        Self::MemberList,
        Self::Mute,
        Self::StopVideo,
        Self::RemoveMember,
        Self::Recording,
        Self::MeetingList,
        Self::EndDetection,
        Self::Media,
    ];

    /// The name on the wire.
    pub fn name(self) -> &'static str {
        match self {
            Self::StartInstant => "start_instant",
            Self::StartPmi => "start_pmi",
            Self::Join => "join",
            Self::Leave => "leave",
            Self::Dissolve => "dissolve",
            Self::MemberList => "member_list",
            Self::Mute => "mute",
            Self::StopVideo => "stop_video",
            Self::RemoveMember => "remove_member",
            Self::Recording => "recording",
            Self::MeetingList => "meeting_list",
            Self::EndDetection => "end_detection",
            Self::Media => "media",
        }
    }

    /// What it does, completing "the service cannot …".
    pub fn describe(self) -> &'static str {
        match self {
            Self::StartInstant => "start an instant meeting",
            Self::StartPmi => "start a personal meeting room",
            Self::Join => "join a meeting",
            Self::Leave => "be told that the room leaves",
            Self::Dissolve => "end a meeting for everyone",
            Self::MemberList => "list who is in the meeting",
            Self::Mute => "mute participants",
            Self::StopVideo => "stop a participant's video",
            Self::RemoveMember => "remove a participant",
            Self::Recording => "record a meeting",
            Self::MeetingList => "list scheduled meetings",
            Self::EndDetection => "tell when a meeting ends",
            Self::Media => "change the room's microphone or camera in a meeting",
        }
    }
}

/// The refusal for something `service` cannot do: code 9, naming the service.
pub fn cannot(service: &str, capability: Capability) -> Refusal {
    Refusal::new(
        ErrorCode::UNSUPPORTED,
        format!(
            "the meeting service ({service}) cannot {}",
            capability.describe()
        ),
    )
}

/// What a meeting code typed for a service may look like.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CodeRule {
    /// Digits, `#` and `*`; spaces and dashes are dropped (dial-pad codes).
    Digits,
    /// Letters and digits, case kept; spaces are dropped (Easemob conference ids).
    Alphanumeric,
    /// Letters, digits, `.`, `_` and `-`, case kept; spaces are dropped (ids a service gives
    /// out without documenting their form).
    Identifier,
}

impl CodeRule {
    /// A regular expression (JSON Schema `pattern`) a typed code must match, separators
    /// included: what [`CodeRule::normalize`] accepts.
    pub fn pattern(self) -> &'static str {
        match self {
            Self::Digits => "^[0-9#* -]*[0-9#*][0-9#* -]*$",
            Self::Alphanumeric => "^[A-Za-z0-9 ]*[A-Za-z0-9][A-Za-z0-9 ]*$",
            Self::Identifier => "^[A-Za-z0-9._ -]*[A-Za-z0-9._-][A-Za-z0-9._ -]*$",
        }
    }

    pub fn describe(self) -> &'static str {
        match self {
            Self::Digits => "use digits, '#' and '*'",
            Self::Alphanumeric => "use letters and digits",
            Self::Identifier => "use letters, digits, '.', '_' and '-'",
        }
    }

    fn dropped(self, c: char) -> bool {
        match self {
            Self::Digits => matches!(c, ' ' | '-'),
            Self::Alphanumeric | Self::Identifier => c == ' ',
        }
    }

    fn allowed(self, c: char) -> bool {
        match self {
            Self::Digits => c.is_ascii_digit() || c == '#' || c == '*',
            Self::Alphanumeric => c.is_ascii_alphanumeric(),
            Self::Identifier => c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'),
        }
    }

    /// The code as typed by people, separators dropped; 10010 when it is empty or has a
    /// character the rule does not allow.
    pub fn normalize(self, raw: &str) -> Result<String, Refusal> {
        let code: String = raw.chars().filter(|c| !self.dropped(*c)).collect();
        if code.is_empty() || !code.chars().all(|c| self.allowed(c)) {
            return Err(Refusal::new(
                ErrorCode::MEETING_CODE_INVALID,
                format!("meeting code {raw:?} is not valid: {}", self.describe()),
            ));
        }
        Ok(code)
    }
}

/// A service's declaration: its name, what it can do, and its code rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Profile {
    /// The configuration name (`sim`, `kedacom`, ...), used in messages.
    pub service: &'static str,
    pub capabilities: &'static [Capability],
    pub code_rule: CodeRule,
}

impl Profile {
    /// The capability a MeetingControl action needs.
    pub fn capability_of(action: &ControlAction) -> Capability {
        match action {
            ControlAction::MuteAll { .. } | ControlAction::MuteMember { .. } => Capability::Mute,
            ControlAction::StopVideo { .. } => Capability::StopVideo,
            ControlAction::RemoveMember { .. } => Capability::RemoveMember,
            ControlAction::RequestRecord | ControlAction::StartRecord { .. } => {
                Capability::Recording
            }
        }
    }

    pub fn can(&self, capability: Capability) -> bool {
        self.capabilities.contains(&capability)
    }

    /// Ok when the service can do it; code 9 naming the service otherwise.
    pub fn require(&self, capability: Capability) -> Result<(), Refusal> {
        if self.can(capability) {
            Ok(())
        } else {
            Err(cannot(self.service, capability))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const RULES: [CodeRule; 3] = [
        CodeRule::Digits,
        CodeRule::Alphanumeric,
        CodeRule::Identifier,
    ];

    #[test]
    fn each_pattern_accepts_exactly_what_its_rule_accepts() {
        let samples = [
            "",
            " ",
            "-",
            "123 456-789",
            "12#*",
            "12a",
            "１２３",
            "TURN25AIYAVxASW7PL1Q00C51",
            "TURN25 AIYA",
            "abc-def_1.2",
            "a/b",
            "a\tb",
            " x ",
            "#",
        ];
        for rule in RULES {
            let pattern = serde_json::json!({"type": "string", "pattern": rule.pattern()});
            let validator = jsonschema::validator_for(&pattern).unwrap();
            for sample in samples {
                assert_eq!(
                    validator.is_valid(&serde_json::json!(sample)),
                    rule.normalize(sample).is_ok(),
                    "{rule:?} {sample:?}"
                );
            }
        }
    }

    #[test]
    fn digits_drop_separators_and_easemob_ids_keep_their_case() {
        assert_eq!(
            CodeRule::Digits.normalize("123 456-789").unwrap(),
            "123456789"
        );
        let refusal = CodeRule::Digits
            .normalize("TURN25AIYAVxASW7PL1Q00C51")
            .unwrap_err();
        assert_eq!(refusal.code, ErrorCode::MEETING_CODE_INVALID);
        assert_eq!(
            CodeRule::Alphanumeric
                .normalize("TURN25AIYAVxASW7PL1Q00C51")
                .unwrap(),
            "TURN25AIYAVxASW7PL1Q00C51"
        );
        assert!(CodeRule::Alphanumeric.normalize("TURN-25").is_err());
        assert_eq!(
            CodeRule::Identifier.normalize("a1-b2_c.3").unwrap(),
            "a1-b2_c.3"
        );
    }
}
