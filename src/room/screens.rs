//! The room's displays (PROTOCOL.md §4.1): one screen, or two extended or mirrored. They come
//! from `[screens]`, or, with hot-plug, from the outputs that are connected. Pure: the watcher
//! that reads the connectors is `crate::displays`.

use super::{Effect, Room, event};
use crate::config::{ScreenCount, ScreenMode, ScreensConfig};
use crate::modules::meeting::{MULTI_SCREEN_CHANGED, MultiScreenChanged, MultiScreenInfo};

/// What the room's displays are.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ScreenSetup {
    Single,
    DualExtended,
    DualMirrored,
}

impl ScreenSetup {
    /// `multi_screen_status`.
    pub fn status(self) -> u8 {
        match self {
            Self::Single => 0,
            Self::DualExtended => 1,
            Self::DualMirrored => 2,
        }
    }

    fn dual(mode: ScreenMode) -> Self {
        match mode {
            ScreenMode::Extend => Self::DualExtended,
            ScreenMode::Mirror => Self::DualMirrored,
        }
    }
}

#[derive(Debug, Clone)]
pub struct Screens {
    setup: ScreenSetup,
    /// How two screens are used: configuration decides, hot-plug only counts.
    dual_mode: ScreenMode,
    /// `main_monitor_id` as configured; with hot-plug, used when that output is connected.
    configured_main: String,
    /// The primary output in dual modes.
    main_monitor_id: String,
}

impl Screens {
    pub fn from_config(config: &ScreensConfig) -> Self {
        Self {
            setup: match config.count {
                ScreenCount::One => ScreenSetup::Single,
                ScreenCount::Two => ScreenSetup::dual(config.mode),
            },
            dual_mode: config.mode,
            configured_main: config.main_monitor_id.clone(),
            main_monitor_id: config.main_monitor_id.clone(),
        }
    }

    pub fn setup(&self) -> ScreenSetup {
        self.setup
    }

    /// `multi_scree_info` (sic, the vendor's spelling).
    pub fn info(&self) -> MultiScreenInfo {
        let main_monitor_id = match self.setup {
            ScreenSetup::Single => String::new(),
            ScreenSetup::DualExtended | ScreenSetup::DualMirrored => self.main_monitor_id.clone(),
        };
        MultiScreenInfo {
            multi_screen_status: self.setup.status(),
            main_monitor_id,
        }
    }

    /// Follows the connected outputs (connector names such as `HDMI-A-1`, in order): two or
    /// more are dual in the configured mode, with the configured main output if it is among
    /// them and the first otherwise; fewer are a single screen. Returns whether
    /// `multi_scree_info` changed.
    pub fn follow(&mut self, connected: &[String]) -> bool {
        let before = self.info();
        if connected.len() >= 2 {
            self.setup = ScreenSetup::dual(self.dual_mode);
            self.main_monitor_id = if connected.contains(&self.configured_main) {
                self.configured_main.clone()
            } else {
                connected[0].clone()
            };
        } else {
            self.setup = ScreenSetup::Single;
        }
        self.info() != before
    }
}

impl Room {
    /// The connected outputs changed (display hot-plug). In a meeting the main screen keeps its
    /// layout; the secondary one follows the new setup.
    pub fn displays_changed(&mut self, connected: &[String]) -> Vec<Effect> {
        if !self.screens.follow(connected) {
            return Vec::new();
        }
        vec![event(
            MULTI_SCREEN_CHANGED,
            MultiScreenChanged {
                multi_scree_info: self.screens.info(),
                layout_info: self.layout_info(),
            },
        )]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn screens(count: ScreenCount, mode: ScreenMode) -> Screens {
        Screens::from_config(&ScreensConfig {
            count,
            mode,
            main_monitor_id: "HDMI-A-2".into(),
            drm_root: String::new(),
        })
    }

    fn outputs(names: &[&str]) -> Vec<String> {
        names.iter().map(|n| n.to_string()).collect()
    }

    #[test]
    fn configuration_decides_without_hot_plug() {
        let single = screens(ScreenCount::One, ScreenMode::Mirror).info();
        assert_eq!(
            (single.multi_screen_status, single.main_monitor_id),
            (0, "".into())
        );
        let extended = screens(ScreenCount::Two, ScreenMode::Extend).info();
        assert_eq!(
            (extended.multi_screen_status, extended.main_monitor_id),
            (1, "HDMI-A-2".into())
        );
        let mirrored = screens(ScreenCount::Two, ScreenMode::Mirror);
        assert_eq!(mirrored.setup(), ScreenSetup::DualMirrored);
        assert_eq!(mirrored.info().multi_screen_status, 2);
    }

    #[test]
    fn two_connected_outputs_are_dual_in_the_configured_mode() {
        let mut s = screens(ScreenCount::One, ScreenMode::Mirror);
        assert!(s.follow(&outputs(&["DP-1", "HDMI-A-2"])));
        let info = s.info();
        assert_eq!(info.multi_screen_status, 2);
        assert_eq!(
            info.main_monitor_id, "HDMI-A-2",
            "the configured main output"
        );
        assert!(
            !s.follow(&outputs(&["DP-1", "HDMI-A-2"])),
            "nothing changed"
        );
    }

    #[test]
    fn without_the_configured_output_the_first_is_main() {
        let mut s = screens(ScreenCount::One, ScreenMode::Extend);
        assert!(s.follow(&outputs(&["DP-1", "DP-2", "DP-3"])));
        assert_eq!(s.info().main_monitor_id, "DP-1");
        // The configured output comes back: it is the main one again.
        assert!(s.follow(&outputs(&["DP-1", "HDMI-A-2"])));
        assert_eq!(s.info().main_monitor_id, "HDMI-A-2");
    }

    #[test]
    fn one_or_no_output_is_a_single_screen() {
        let mut s = screens(ScreenCount::Two, ScreenMode::Extend);
        assert!(s.follow(&outputs(&["HDMI-A-2"])));
        assert_eq!(s.setup(), ScreenSetup::Single);
        assert_eq!(s.info().main_monitor_id, "");
        assert!(
            !s.follow(&[]),
            "still one screen as far as the room can tell"
        );
    }

    mod room {
        use super::outputs;
        use crate::domain::RoomRole;
        use crate::modules::meeting::MeetingAction;
        use crate::room::test_support::*;

        #[test]
        fn hot_plug_in_a_meeting_keeps_the_main_layout() {
            let mut r = in_meeting(RoomRole::Host, 2);
            act(
                &mut r,
                MeetingAction::SwitchLayout {
                    switch_type: 2,
                    show_voice_active: None,
                },
            )
            .unwrap();

            let plugged = r.displays_changed(&outputs(&["HDMI-A-1", "HDMI-A-2"]));
            let e = only_event(&plugged);
            assert_eq!((e.module, e.name), ("Meeting", "MultiScreenChanged"));
            assert_eq!(e.data["multi_scree_info"]["multi_screen_status"], 1);
            assert_eq!(e.data["multi_scree_info"]["main_monitor_id"], "HDMI-A-1");
            let layout = &e.data["layout_info"];
            assert_eq!(layout["main_screen_layout_info"]["layout_type"], 1);
            assert_eq!(layout["main_screen_layout_info"]["show_small_view"], true);
            assert_eq!(layout["secondary_screen_layout_info"]["layout_type"], 2);
            assert_eq!(layout["layout_switch_info"]["current_switch_type"], 2);

            let unplugged = r.displays_changed(&outputs(&["HDMI-A-1"]));
            let e = only_event(&unplugged);
            assert_eq!(e.data["multi_scree_info"]["multi_screen_status"], 0);
            assert_eq!(e.data["multi_scree_info"]["main_monitor_id"], "");
            let layout = &e.data["layout_info"];
            assert_eq!(layout["main_screen_layout_info"]["layout_type"], 1);
            assert_eq!(layout["secondary_screen_layout_info"]["layout_type"], 0);
            assert_eq!(layout["layout_switch_info"]["current_switch_type"], 2);
            assert_eq!(r.phase().status(), 1, "still in the meeting");
        }

        #[test]
        fn no_event_when_the_setup_stays() {
            let mut r = room();
            assert!(r.displays_changed(&outputs(&["HDMI-A-1"])).is_empty());
            assert!(r.displays_changed(&[]).is_empty());
            let plugged = r.displays_changed(&outputs(&["DP-1", "DP-2"]));
            let e = only_event(&plugged);
            assert_eq!(e.data["multi_scree_info"]["main_monitor_id"], "DP-1");
            assert_eq!(
                e.data["layout_info"]["main_screen_layout_info"]["layout_type"], 0,
                "no layout outside a meeting"
            );
        }
    }
}
