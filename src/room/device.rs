//! The room's devices: microphone, speaker, camera and PTZ (PROTOCOL.md §6). Pure and
//! synchronous.
//!
//! Two sets of values: the room's own settings ([`DeviceSettings`], kept across restarts), and
//! the microphone and camera of the current meeting, which `JoinMeeting` may choose differently
//! and which return to the room's own when the meeting ends. Outside a meeting a change is the
//! room's own and takes effect at once. In a meeting (or its waiting room) it is the meeting
//! service's to carry out, and takes effect when the service confirms.

use serde::{Deserialize, Serialize};

use super::{BackendCall, Effect, Event, Phase, Room};
use crate::domain::{BackendResult, Media, Session};
use crate::modules::EventDef;
use crate::modules::device::{
    self as d, AudioInfo, CameraChanged, CameraFrameMode, CameraInfo, DeviceAction, DeviceInfo,
    DeviceNode, MicChanged, PtzAxis, PtzInfo, SpeakerChanged, TestState, Tested, frame_mode_name,
};
use crate::wire::{ErrorCode, Refusal};

/// The room's device settings that survive a restart.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct DeviceSettings {
    /// The microphone outside meetings, and in meetings joined without `mic_enable`.
    pub mic_on: bool,
    pub camera_on: bool,
    pub speaker_volume: u8,
    pub mic_volume: u8,
    /// 1 to 5; see [`crate::modules::device::FRAME_MODES`].
    pub camera_frame_mode: u8,
}

impl Default for DeviceSettings {
    fn default() -> Self {
        Self {
            mic_on: true,
            camera_on: true,
            speaker_volume: 50,
            mic_volume: 80,
            camera_frame_mode: 1,
        }
    }
}

impl DeviceSettings {
    /// Whether every value is in range (a saved file may have been edited or damaged).
    pub fn check(&self) -> Result<(), String> {
        if self.speaker_volume > 100 || self.mic_volume > 100 {
            return Err("volumes must be from 0 to 100".into());
        }
        if !(1..=5).contains(&self.camera_frame_mode) {
            return Err("camera_frame_mode must be from 1 to 5".into());
        }
        Ok(())
    }
}

/// A microphone or camera change that the meeting service has yet to confirm.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MediaChange {
    Mic(bool),
    Camera(bool),
}

impl MediaChange {
    fn event(self) -> DeviceEvent {
        match self {
            Self::Mic(_) => DeviceEvent::Mic(d::ENABLE_MIC),
            Self::Camera(_) => DeviceEvent::Camera(d::ENABLE_CAMERA),
        }
    }

    /// Whether both are about the same switch.
    fn same_switch(self, other: Self) -> bool {
        std::mem::discriminant(&self) == std::mem::discriminant(&other)
    }

    /// `media` with this change made.
    fn applied(self, mut media: Media) -> Media {
        match self {
            Self::Mic(on) => media.mic_on = on,
            Self::Camera(on) => media.camera_on = on,
        }
        media
    }
}

#[derive(Debug, Clone)]
pub struct Devices {
    node: DeviceNode,
    settings: DeviceSettings,
    pub(super) pending: Option<MediaChange>,
    speaker_test: bool,
    mic_test: bool,
}

impl Devices {
    pub fn new(room_name: &str, settings: DeviceSettings) -> Self {
        let axis = PtzAxis {
            min: 0,
            max: 0,
            value: 0,
        };
        let audio = |on, volume| AudioInfo {
            switch: on,
            device_id: "default".into(),
            volume,
        };
        Self {
            node: DeviceNode {
                device_info: DeviceInfo {
                    device_name: room_name.to_owned(),
                    device_model: "roomsd".into(),
                    serial_number: String::new(),
                    software_version: env!("CARGO_PKG_VERSION").into(),
                    ip_address: String::new(),
                },
                mic_info: audio(settings.mic_on, settings.mic_volume),
                speaker_info: audio(true, settings.speaker_volume),
                camera_info: CameraInfo {
                    camera_frame_mode: CameraFrameMode {
                        mode: settings.camera_frame_mode,
                        name: frame_mode_name(settings.camera_frame_mode).into(),
                    },
                    switch: settings.camera_on,
                    device_id: "default".into(),
                },
                ptz_info: PtzInfo {
                    support: false,
                    pan: axis,
                    tilt: axis,
                    zoom: axis,
                    device_id: String::new(),
                },
            },
            settings,
            pending: None,
            speaker_test: false,
            mic_test: false,
        }
    }

    pub fn node(&self) -> &DeviceNode {
        &self.node
    }

    pub fn settings(&self) -> &DeviceSettings {
        &self.settings
    }

    pub fn mic_on(&self) -> bool {
        self.node.mic_info.switch
    }

    pub fn camera_on(&self) -> bool {
        self.node.camera_info.switch
    }

    pub fn media(&self) -> Media {
        Media {
            mic_on: self.mic_on(),
            camera_on: self.camera_on(),
        }
    }

    /// The mic and camera a meeting starts with: the join's choice, else the room's.
    pub fn for_meeting(&self, mic: Option<bool>, camera: Option<bool>) -> Media {
        Media {
            mic_on: mic.unwrap_or(self.settings.mic_on),
            camera_on: camera.unwrap_or(self.settings.camera_on),
        }
    }

    /// Sets the microphone and camera switches: the meeting's choice from a start or join on,
    /// or one confirmed change.
    pub fn set_switches(&mut self, media: Media) {
        self.node.mic_info.switch = media.mic_on;
        self.node.camera_info.switch = media.camera_on;
    }

    /// The room's own settings return. A change still with the service is abandoned, and
    /// returned so that its event can say so.
    pub fn leave_meeting(&mut self) -> Option<MediaChange> {
        self.node.mic_info.switch = self.settings.mic_on;
        self.node.camera_info.switch = self.settings.camera_on;
        self.pending.take()
    }

    fn apply(&mut self, change: MediaChange) {
        self.set_switches(change.applied(self.media()));
    }

    /// Event `which`, carrying the node the change concerns; `failure` if it failed.
    fn event(&self, which: DeviceEvent, failure: Option<&Refusal>) -> Effect {
        Effect::Publish(match which {
            DeviceEvent::Mic(def) => Event::told(
                def,
                failure,
                MicChanged {
                    mic_info: self.node.mic_info.clone(),
                },
            ),
            DeviceEvent::Speaker(def) => Event::told(
                def,
                failure,
                SpeakerChanged {
                    speaker_info: self.node.speaker_info.clone(),
                },
            ),
            DeviceEvent::Camera(def) => Event::told(
                def,
                failure,
                CameraChanged {
                    camera_info: self.node.camera_info.clone(),
                },
            ),
            DeviceEvent::Test(def, which) => {
                let is_testing = match which {
                    Tested::Speaker => self.speaker_test,
                    Tested::Mic => self.mic_test,
                };
                Event::told(def, failure, TestState { is_testing })
            }
        })
    }
}

/// A Device event, by the node it carries.
#[derive(Debug, Clone, Copy)]
enum DeviceEvent {
    Mic(EventDef<MicChanged>),
    Speaker(EventDef<SpeakerChanged>),
    Camera(EventDef<CameraChanged>),
    Test(EventDef<TestState>, Tested),
}

fn device_event(devices: &Devices, which: DeviceEvent) -> Effect {
    devices.event(which, None)
}

impl Room {
    pub(super) fn device_action(&mut self, action: DeviceAction) -> Result<Vec<Effect>, Refusal> {
        let devices = &mut self.devices;
        let told = match action {
            DeviceAction::EnableMic(on) => return self.switch_media(MediaChange::Mic(on)),
            DeviceAction::EnableCamera(on) => return self.switch_media(MediaChange::Camera(on)),
            DeviceAction::SetSpeakerVolume(volume) => {
                devices.settings.speaker_volume = volume;
                devices.node.speaker_info.volume = volume;
                DeviceEvent::Speaker(d::SET_SPEAKER_VOLUME)
            }
            DeviceAction::SetMicVolume(volume) => {
                devices.settings.mic_volume = volume;
                devices.node.mic_info.volume = volume;
                DeviceEvent::Mic(d::SET_MIC_VOLUME)
            }
            DeviceAction::SetCameraFrameMode(mode) => {
                devices.settings.camera_frame_mode = mode;
                devices.node.camera_info.camera_frame_mode = CameraFrameMode {
                    mode,
                    name: frame_mode_name(mode).into(),
                };
                DeviceEvent::Camera(d::SET_CAMERA_FRAME_MODE)
            }
            DeviceAction::Test(which, start) => {
                let (testing, name, what) = match which {
                    Tested::Speaker => (
                        &mut devices.speaker_test,
                        d::SPEAKER_TEST_STATE_CHANGE,
                        "speaker",
                    ),
                    Tested::Mic => (
                        &mut devices.mic_test,
                        d::MIC_TEST_STATE_CHANGE,
                        "microphone",
                    ),
                };
                if *testing == start {
                    let state = if start { "already" } else { "not" };
                    return Err(Refusal::new(
                        ErrorCode::REPEAT_OPERATION,
                        format!("the {what} test is {state} running"),
                    ));
                }
                *testing = start;
                DeviceEvent::Test(name, which)
            }
        };
        Ok(vec![device_event(&self.devices, told)])
    }

    /// `EnableMic` / `EnableCamera`.
    fn switch_media(&mut self, change: MediaChange) -> Result<Vec<Effect>, Refusal> {
        let (now, on, what, [if_on, if_off]) = match change {
            MediaChange::Mic(on) => (
                self.devices.mic_on(),
                on,
                "microphone",
                [ErrorCode::MIC_ALREADY_ON, ErrorCode::MIC_ALREADY_OFF],
            ),
            MediaChange::Camera(on) => (
                self.devices.camera_on(),
                on,
                "camera",
                [ErrorCode::CAMERA_ALREADY_ON, ErrorCode::CAMERA_ALREADY_OFF],
            ),
        };
        if now == on {
            let (code, state) = if on { (if_on, "on") } else { (if_off, "off") };
            return Err(Refusal::new(code, format!("the {what} is already {state}")));
        }
        match &self.phase {
            Phase::Idle => {
                match change {
                    MediaChange::Mic(on) => self.devices.settings.mic_on = on,
                    MediaChange::Camera(on) => self.devices.settings.camera_on = on,
                }
                self.devices.apply(change);
                Ok(vec![device_event(&self.devices, change.event())])
            }
            Phase::Joining { .. } => Err(Refusal::new(
                ErrorCode::REPEAT_OPERATION,
                "the room is joining a meeting: change the microphone or camera once it is in",
            )),
            Phase::WaitingRoom { session, .. } | Phase::InMeeting { session, .. } => {
                self.profile.require(crate::domain::Capability::Media)?;
                if self.devices.pending.is_some() {
                    return Err(Refusal::new(
                        ErrorCode::REPEAT_OPERATION,
                        "a microphone or camera change is already with the meeting service",
                    ));
                }
                self.devices.pending = Some(change);
                let session = *session;
                let media = change.applied(self.devices.media());
                Ok(vec![Effect::Run(BackendCall::new(
                    "set_media",
                    Some(session),
                    move |b| b.set_media(session, media),
                    move |room, answer| room.media_answered(session, change, answer),
                ))])
            }
        }
    }

    /// The meeting service's answer to a microphone or camera change.
    pub(super) fn media_answered(
        &mut self,
        session: Session,
        change: MediaChange,
        result: BackendResult<()>,
    ) -> Vec<Effect> {
        if self.phase.session() != Some(session) || self.devices.pending != Some(change) {
            // Its meeting is over, and `devices_leave_meeting` reported the change as
            // abandoned (one change is pending at a time, so a pending change that differs
            // belongs to a later meeting).
            return Vec::new();
        }
        self.devices.pending = None;
        if let Err(refusal) = result {
            return vec![self.devices.event(change.event(), Some(&refusal))];
        }
        self.devices.apply(change);
        let mut effects = vec![device_event(&self.devices, change.event())];
        if self.phase.in_meeting().is_some() {
            effects.extend(self.members_changed());
        }
        effects
    }

    /// Back to the room's own devices at the end of a meeting, with an event for each switch
    /// that changes; a change the service never confirmed ends in its event with 10000.
    pub(super) fn devices_leave_meeting(&mut self) -> Vec<Effect> {
        let before = self.devices.media();
        let abandoned = self.devices.leave_meeting();
        let mut effects: Vec<Effect> = abandoned
            .map(|change| {
                let refusal = Refusal::new(
                    ErrorCode::NOT_IN_MEETING,
                    "the meeting ended before the meeting service confirmed the change",
                );
                self.devices.event(change.event(), Some(&refusal))
            })
            .into_iter()
            .collect();
        effects.extend(self.switch_events(before, abandoned));
        effects
    }

    /// The meeting's microphone and camera from a start or join on, with an event for each
    /// switch that changes.
    pub(super) fn devices_enter_meeting(&mut self, media: Media) -> Vec<Effect> {
        let before = self.devices.media();
        self.devices.set_switches(media);
        self.switch_events(before, None)
    }

    /// `EnableMic` / `EnableCamera` events for the switches that differ from `before`, but for
    /// the one already `reported`.
    fn switch_events(&self, before: Media, reported: Option<MediaChange>) -> Vec<Effect> {
        let now = self.devices.media();
        [
            (now.mic_on != before.mic_on, MediaChange::Mic(now.mic_on)),
            (
                now.camera_on != before.camera_on,
                MediaChange::Camera(now.camera_on),
            ),
        ]
        .into_iter()
        .filter(|&(changed, change)| changed && !reported.is_some_and(|r| r.same_switch(change)))
        .map(|(_, change)| device_event(&self.devices, change.event()))
        .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn join_choices_last_for_the_meeting_only() {
        let mut d = Devices::new("Room", DeviceSettings::default());
        let media = d.for_meeting(Some(false), None);
        assert_eq!((media.mic_on, media.camera_on), (false, true));
        d.set_switches(media);
        assert!(!d.mic_on());
        d.leave_meeting();
        assert!(d.mic_on() && d.camera_on());
    }

    #[test]
    fn saved_settings_are_what_the_devices_start_with() {
        let settings = DeviceSettings {
            mic_on: false,
            speaker_volume: 12,
            camera_frame_mode: 2,
            ..DeviceSettings::default()
        };
        let d = Devices::new("Room", settings);
        assert!(!d.mic_on());
        assert_eq!(d.node().speaker_info.volume, 12);
        assert_eq!(d.node().camera_info.camera_frame_mode.name, "auto_framing");
    }
}
