//! Sharing (PROTOCOL.md §6): the room shares a screen, a window or a capture input into the
//! meeting, or, outside a meeting, casts it to its own display (`meeting_status` 4). Every
//! Share action is synchronous: the acknowledgement is the outcome.
//!
//! ```text
//! Idle ──OpenShareGuide──▶ Guide (quick_casting_state 1: the display shows the cast code)
//! Idle, Guide ──StartShare──▶ Casting (no meeting: quick_casting_state 2, meeting_status 4)
//!                           └▶ Sharing (in a meeting: self_info.screen_sharing)
//! Guide ──CloseShareGuide / CancelQuickShare──▶ Idle
//! Casting ──StopShare / EndQuickShare / CancelQuickShare──▶ Idle
//! Sharing ──StopShare (StopWindowShare for a window only), the meeting ends──▶ Idle
//! ```

use super::{Effect, Phase, Room, event};
use crate::config::ShareConfig;
use crate::modules::meeting::{self as m, UserInfo};
use crate::modules::share::{
    CaptureDevice, SHARE_INFO_CHANGED, ShareAction, ShareInfo, ShareInfoChanged, ShareNode,
    ShareSource,
};
use crate::wire::{ErrorCode, Refusal};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ShareState {
    Idle,
    /// The cast guide is on the display, waiting for a source.
    Guide,
    /// Cast to the room's display, no meeting.
    Casting(ShareSource),
    /// Shared into the meeting.
    Sharing(ShareSource),
}

#[derive(Debug, Clone)]
pub struct Share {
    cast_code: String,
    capture_devices: Vec<CaptureDevice>,
    state: ShareState,
}

impl Share {
    /// `cast_seed` makes the cast code when the configuration sets none.
    pub fn new(config: &ShareConfig, cast_seed: u64) -> Self {
        let cast_code = if config.cast_code.is_empty() {
            format!("{:06}", cast_seed % 1_000_000)
        } else {
            config.cast_code.0.clone()
        };
        Self {
            cast_code,
            capture_devices: config
                .capture_devices
                .iter()
                .map(|id| CaptureDevice {
                    device_id: id.clone(),
                    device_name: id.clone(),
                })
                .collect(),
            state: ShareState::Idle,
        }
    }

    /// Whether the room is casting to its display outside a meeting (`meeting_status` 4).
    pub fn casting(&self) -> bool {
        matches!(self.state, ShareState::Casting(_))
    }

    /// Whether the room shares into its meeting (`self_info.screen_sharing`).
    pub fn sharing_in_meeting(&self) -> bool {
        matches!(self.state, ShareState::Sharing(_))
    }

    /// A meeting begins: the guide, if showing, gives way to it.
    pub fn meeting_begins(&mut self) {
        if self.state == ShareState::Guide {
            self.state = ShareState::Idle;
        }
    }

    /// The room turned out to be in a meeting (found by reconciling): the meeting has the
    /// display, so a cast ends and the guide closes.
    pub fn meeting_found(&mut self) {
        if self.state == ShareState::Guide || self.casting() {
            self.state = ShareState::Idle;
        }
    }

    /// The meeting ended: so did sharing into it.
    pub fn meeting_ends(&mut self) {
        if self.sharing_in_meeting() {
            self.state = ShareState::Idle;
        }
    }
}

impl Room {
    pub(super) fn share_node(&self) -> ShareNode {
        let (is_sharing, quick_casting_state) = match self.share.state {
            ShareState::Idle => (false, 0),
            ShareState::Guide => (false, 1),
            ShareState::Casting(_) => (true, 2),
            ShareState::Sharing(_) => (true, 0),
        };
        let share_user_info = if is_sharing {
            UserInfo {
                nickname: self.name.clone(),
                ..self.self_info()
            }
        } else {
            UserInfo::default()
        };
        ShareNode {
            share_info: ShareInfo {
                share_user_info,
                is_sharing,
                quick_casting_state,
            },
            cast_code: self.share.cast_code.clone(),
            capture_device_list: self.share.capture_devices.clone(),
        }
    }

    pub(super) fn share_action(&mut self, action: ShareAction) -> Result<Vec<Effect>, Refusal> {
        let next = match (action, &self.share.state) {
            (ShareAction::Start(source) | ShareAction::StartWindow(source), current) => {
                if matches!(current, ShareState::Casting(_) | ShareState::Sharing(_)) {
                    return Err(Refusal::new(
                        ErrorCode::REPEAT_OPERATION,
                        "the room is already sharing: stop it first",
                    ));
                }
                self.check_source(&source)?;
                match (&self.phase, &source) {
                    (Phase::InMeeting { .. }, _) => ShareState::Sharing(source),
                    (Phase::Idle, ShareSource::Screen { .. } | ShareSource::Capture { .. }) => {
                        ShareState::Casting(source)
                    }
                    (Phase::Idle, ShareSource::Window { .. }) => {
                        return Err(Refusal::new(
                            ErrorCode::NOT_IN_MEETING,
                            "a window can only be shared into a meeting",
                        ));
                    }
                    (Phase::Joining { .. } | Phase::WaitingRoom { .. }, _) => {
                        return Err(Refusal::new(
                            ErrorCode::NOT_IN_MEETING,
                            "the room is not in the meeting yet",
                        ));
                    }
                }
            }
            (ShareAction::OpenGuide, ShareState::Idle) => ShareState::Guide,
            (ShareAction::OpenGuide, ShareState::Guide) => ShareState::Guide,
            (ShareAction::OpenGuide, _) => {
                return Err(Refusal::new(
                    ErrorCode::REPEAT_OPERATION,
                    "the room is already sharing",
                ));
            }
            (ShareAction::Stop, ShareState::Casting(_) | ShareState::Sharing(_))
            | (ShareAction::StopWindow, ShareState::Sharing(ShareSource::Window { .. }))
            | (ShareAction::CloseGuide, ShareState::Guide)
            | (ShareAction::EndQuickShare, ShareState::Casting(_))
            | (ShareAction::CancelQuickShare, ShareState::Guide | ShareState::Casting(_)) => {
                ShareState::Idle
            }
            // Stopping what is not going on: nothing to do, and nothing wrong (drivers send
            // stops blindly to reach a known state).
            (_, current) => current.clone(),
        };
        Ok(self.update_share(|share| share.state = next))
    }

    /// Changes sharing with `change`, and returns the events for what changed.
    pub(super) fn update_share(&mut self, change: impl FnOnce(&mut Share)) -> Vec<Effect> {
        let before = self.share.state.clone();
        change(&mut self.share);
        self.share_changed(&before)
    }

    /// The events for a change of sharing state from `before`.
    fn share_changed(&mut self, before: &ShareState) -> Vec<Effect> {
        if *before == self.share.state {
            return Vec::new();
        }
        let mut effects = vec![event(
            SHARE_INFO_CHANGED,
            ShareInfoChanged {
                share_info: self.share_node().share_info,
            },
        )];
        let was_casting = matches!(before, ShareState::Casting(_));
        if was_casting != self.share.casting() {
            effects.push(event(m::MEETING_INFO_CHANGED, self.meeting_info_data()));
        }
        // The room's own member record shows whether it shares.
        let was_sharing = matches!(before, ShareState::Sharing(_));
        if was_sharing != self.share.sharing_in_meeting() && self.phase.in_meeting().is_some() {
            effects.extend(self.members_changed());
        }
        effects
    }

    fn check_source(&self, source: &ShareSource) -> Result<(), Refusal> {
        if let ShareSource::Capture { device_id } = source
            && !self
                .share
                .capture_devices
                .iter()
                .any(|d| &d.device_id == device_id)
        {
            return Err(Refusal::new(
                ErrorCode::PARAMETER,
                format!(
                    "StartShare: no capture device {device_id:?} (see capture_device_list; \
                     configure share.capture_devices)"
                ),
            ));
        }
        Ok(())
    }
}
