//! The layout and multi-screen state machine (PROTOCOL.md §4.1). Pure and synchronous.

use crate::config::{ScreenCount, ScreenMode, ScreensConfig};
use crate::modules::meeting::{
    LayoutInfo, LayoutSwitchEntry, LayoutSwitchInfo, MultiScreenInfo, ScreenLayout,
};

/// What the room's displays are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScreenSetup {
    Single,
    DualExtended,
    DualMirrored,
}

impl ScreenSetup {
    pub fn from_config(config: &ScreensConfig) -> Self {
        match (config.count, config.mode) {
            (ScreenCount::One, _) => Self::Single,
            (ScreenCount::Two, ScreenMode::Extend) => Self::DualExtended,
            (ScreenCount::Two, ScreenMode::Mirror) => Self::DualMirrored,
        }
    }

    fn status(self) -> u8 {
        match self {
            Self::Single => 0,
            Self::DualExtended => 1,
            Self::DualMirrored => 2,
        }
    }
}

pub const GRID: u8 = 1;
const LAYOUT_TYPE_PRESENTER: u8 = 1;
const LAYOUT_TYPE_GRID: u8 = 2;
const LAYOUT_TYPE_CUSTOM: u8 = 3;

fn is_speaker(switch_type: u8) -> bool {
    matches!(switch_type, 2 | 3)
}

#[derive(Debug, Clone)]
pub struct Layout {
    pub screens: ScreenSetup,
    main_monitor_id: String,
    switch_type: u8,
    show_voice_active: bool,
    /// Whether this meeting has switched to a speaker layout yet: the first such switch forces
    /// the voice-activity window on (vendor rule).
    speaker_switched: bool,
}

impl Layout {
    pub fn new(screens: ScreenSetup, main_monitor_id: String) -> Self {
        Self {
            screens,
            main_monitor_id,
            switch_type: GRID,
            show_voice_active: true,
            speaker_switched: false,
        }
    }

    /// Applies a switch the room has already allowed (in a meeting, with someone else there).
    pub fn switch(&mut self, switch_type: u8, show_voice_active: Option<bool>) {
        if is_speaker(switch_type) {
            if !self.speaker_switched {
                self.speaker_switched = true;
                self.show_voice_active = true;
            } else if let Some(show) = show_voice_active {
                self.show_voice_active = show;
            }
        }
        self.switch_type = switch_type;
    }

    /// Back to the grid with a fresh "first speaker switch", as after leaving a meeting.
    pub fn reset(&mut self) {
        *self = Self::new(self.screens, std::mem::take(&mut self.main_monitor_id));
    }

    pub fn multi_screen_info(&self) -> MultiScreenInfo {
        let main_monitor_id = match self.screens {
            ScreenSetup::Single => String::new(),
            _ => self.main_monitor_id.clone(),
        };
        MultiScreenInfo {
            multi_screen_status: self.screens.status(),
            main_monitor_id,
        }
    }

    fn main_screen(&self) -> ScreenLayout {
        match self.switch_type {
            GRID => ScreenLayout {
                layout_model: 0,
                show_small_view: false,
                layout_type: LAYOUT_TYPE_GRID,
            },
            t if is_speaker(t) => ScreenLayout {
                layout_model: 0,
                show_small_view: self.show_voice_active,
                layout_type: LAYOUT_TYPE_PRESENTER,
            },
            _ => ScreenLayout {
                layout_model: 0,
                show_small_view: false,
                layout_type: LAYOUT_TYPE_CUSTOM,
            },
        }
    }

    fn secondary_screen(&self, main: ScreenLayout) -> ScreenLayout {
        match self.screens {
            ScreenSetup::Single => ScreenLayout::default(),
            ScreenSetup::DualMirrored => main,
            // The second screen complements the first: the speaker while the main shows the grid,
            // the grid otherwise.
            ScreenSetup::DualExtended if main.layout_type == LAYOUT_TYPE_GRID => ScreenLayout {
                layout_model: 0,
                show_small_view: false,
                layout_type: LAYOUT_TYPE_PRESENTER,
            },
            ScreenSetup::DualExtended => ScreenLayout {
                layout_model: 0,
                show_small_view: false,
                layout_type: LAYOUT_TYPE_GRID,
            },
        }
    }

    /// `layout_info`: all zero outside a meeting; `switchable` when the room is in a meeting with
    /// at least one other participant.
    pub fn info(&self, in_meeting: bool, switchable: bool) -> LayoutInfo {
        let (main, secondary) = if in_meeting {
            let main = self.main_screen();
            (main, self.secondary_screen(main))
        } else {
            (ScreenLayout::default(), ScreenLayout::default())
        };
        let layout_switch_list = (1..=7)
            .map(|switch_type| LayoutSwitchEntry {
                switch_type,
                enable: switchable,
                show_voice_active: is_speaker(switch_type).then_some(self.show_voice_active),
            })
            .collect();
        LayoutInfo {
            main_screen_layout_info: main,
            secondary_screen_layout_info: secondary,
            layout_switch_info: LayoutSwitchInfo {
                current_switch_type: self.switch_type,
                layout_switch_enable: switchable,
                layout_switch_list,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn layout(screens: ScreenSetup) -> Layout {
        Layout::new(screens, "HDMI-A-1".into())
    }

    #[test]
    fn first_speaker_switch_forces_the_voice_window() {
        let mut l = layout(ScreenSetup::Single);
        l.switch(2, Some(false));
        let info = l.info(true, true);
        assert!(info.main_screen_layout_info.show_small_view);
        assert_eq!(
            info.main_screen_layout_info.layout_type,
            LAYOUT_TYPE_PRESENTER
        );
        l.switch(3, Some(false));
        assert!(!l.info(true, true).main_screen_layout_info.show_small_view);
        // Absent: keeps the previous value.
        l.switch(2, None);
        assert!(!l.info(true, true).main_screen_layout_info.show_small_view);
    }

    #[test]
    fn switch_types_map_to_layout_types() {
        let mut l = layout(ScreenSetup::Single);
        for (t, expected) in [(1, 2), (2, 1), (3, 1), (4, 3), (5, 3), (6, 3), (7, 3)] {
            l.switch(t, None);
            let info = l.info(true, true);
            assert_eq!(
                info.main_screen_layout_info.layout_type, expected,
                "switch_type {t}"
            );
            assert_eq!(info.layout_switch_info.current_switch_type, t);
        }
    }

    #[test]
    fn voice_active_only_on_speaker_entries() {
        let info = layout(ScreenSetup::Single).info(true, true);
        let list = &info.layout_switch_info.layout_switch_list;
        assert_eq!(list.len(), 7);
        for entry in list {
            assert_eq!(
                entry.show_voice_active.is_some(),
                matches!(entry.switch_type, 2 | 3)
            );
            assert!(entry.enable);
        }
    }

    #[test]
    fn secondary_screen_follows_the_setup() {
        let mut single = layout(ScreenSetup::Single);
        single.switch(2, None);
        assert_eq!(
            single.info(true, true).secondary_screen_layout_info,
            ScreenLayout::default()
        );

        let mut mirrored = layout(ScreenSetup::DualMirrored);
        mirrored.switch(5, None);
        let info = mirrored.info(true, true);
        assert_eq!(
            info.secondary_screen_layout_info,
            info.main_screen_layout_info
        );

        let mut extended = layout(ScreenSetup::DualExtended);
        assert_eq!(
            extended
                .info(true, true)
                .secondary_screen_layout_info
                .layout_type,
            LAYOUT_TYPE_PRESENTER
        );
        extended.switch(2, None);
        assert_eq!(
            extended
                .info(true, true)
                .secondary_screen_layout_info
                .layout_type,
            LAYOUT_TYPE_GRID
        );
    }

    #[test]
    fn outside_a_meeting_everything_is_zero_and_disabled() {
        let info = layout(ScreenSetup::DualExtended).info(false, false);
        assert_eq!(info.main_screen_layout_info, ScreenLayout::default());
        assert_eq!(info.secondary_screen_layout_info, ScreenLayout::default());
        assert!(!info.layout_switch_info.layout_switch_enable);
        assert!(
            info.layout_switch_info
                .layout_switch_list
                .iter()
                .all(|e| !e.enable)
        );
    }

    #[test]
    fn reset_returns_to_grid_and_forgets_the_first_speaker_switch() {
        let mut l = layout(ScreenSetup::Single);
        l.switch(2, None);
        l.switch(2, Some(false));
        l.reset();
        assert_eq!(
            l.info(true, true).layout_switch_info.current_switch_type,
            GRID
        );
        l.switch(3, Some(false));
        assert!(l.info(true, true).main_screen_layout_info.show_small_view);
    }

    #[test]
    fn main_monitor_only_named_on_two_screens() {
        assert_eq!(
            layout(ScreenSetup::Single)
                .multi_screen_info()
                .main_monitor_id,
            ""
        );
        let dual = layout(ScreenSetup::DualMirrored).multi_screen_info();
        assert_eq!(
            (dual.multi_screen_status, dual.main_monitor_id.as_str()),
            (2, "HDMI-A-1")
        );
    }
}
