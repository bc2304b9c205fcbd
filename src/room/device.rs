//! The room's devices: microphone, speaker, camera and PTZ. Pure and synchronous.

use crate::modules::device::{
    AudioInfo, CameraFrameMode, CameraInfo, DeviceInfo, DeviceNode, PtzAxis, PtzInfo,
};

/// The devices' state, and the room's own mic and camera settings that return after a meeting
/// in which `JoinMeeting` chose others.
#[derive(Debug, Clone)]
pub struct Devices {
    node: DeviceNode,
    room_mic_on: bool,
    room_camera_on: bool,
}

impl Devices {
    pub fn new(room_name: &str) -> Self {
        let axis = PtzAxis {
            min: 0,
            max: 0,
            value: 0,
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
                mic_info: AudioInfo {
                    switch: true,
                    device_id: "default".into(),
                    volume: 80,
                },
                speaker_info: AudioInfo {
                    switch: true,
                    device_id: "default".into(),
                    volume: 50,
                },
                camera_info: CameraInfo {
                    camera_frame_mode: CameraFrameMode {
                        mode: 1,
                        name: "manual".into(),
                    },
                    switch: true,
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
            room_mic_on: true,
            room_camera_on: true,
        }
    }

    pub fn node(&self) -> &DeviceNode {
        &self.node
    }

    pub fn mic_on(&self) -> bool {
        self.node.mic_info.switch
    }

    pub fn camera_on(&self) -> bool {
        self.node.camera_info.switch
    }

    /// The mic and camera a meeting starts with: the join's choice, else the room's.
    pub fn for_meeting(&self, mic: Option<bool>, camera: Option<bool>) -> (bool, bool) {
        (
            mic.unwrap_or(self.room_mic_on),
            camera.unwrap_or(self.room_camera_on),
        )
    }

    pub fn enter_meeting(&mut self, mic_on: bool, camera_on: bool) {
        self.node.mic_info.switch = mic_on;
        self.node.camera_info.switch = camera_on;
    }

    /// The room's own settings return.
    pub fn leave_meeting(&mut self) {
        self.node.mic_info.switch = self.room_mic_on;
        self.node.camera_info.switch = self.room_camera_on;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn join_choices_last_for_the_meeting_only() {
        let mut d = Devices::new("Room");
        let (mic, camera) = d.for_meeting(Some(false), None);
        assert_eq!((mic, camera), (false, true));
        d.enter_meeting(mic, camera);
        assert!(!d.mic_on());
        d.leave_meeting();
        assert!(d.mic_on() && d.camera_on());
    }
}
