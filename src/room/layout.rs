//! The layout state machine (PROTOCOL.md §4.1): which switch type the room shows, and what that
//! puts on the main and the secondary screen. Pure and synchronous.

use super::screens::ScreenSetup;
use crate::modules::meeting::{LayoutInfo, LayoutSwitchEntry, LayoutSwitchInfo, ScreenLayout};

/// What a switch type puts on the main screen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum View {
    Grid,
    Speaker,
    Custom,
}

impl View {
    /// `layout_type`: 1 presenter, 2 grid, 3 custom.
    pub fn layout_type(self) -> u8 {
        match self {
            Self::Speaker => 1,
            Self::Grid => 2,
            Self::Custom => 3,
        }
    }

    /// What the second screen of an extended pair shows next to this: the speaker beside the
    /// grid, the grid beside anything else.
    pub fn beside(self) -> View {
        match self {
            Self::Grid => Self::Speaker,
            Self::Speaker | Self::Custom => Self::Grid,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Self::Grid => "Grid",
            Self::Speaker => "Speaker",
            Self::Custom => "Custom",
        }
    }
}

/// A `switch_type` and what it shows.
#[derive(Debug, Clone, Copy)]
pub struct SwitchType {
    pub switch_type: u8,
    pub name: &'static str,
    pub view: View,
}

/// Every switch type, in `layout_switch_list` order. The layout follows this table and
/// docs/STATE-MACHINES.md shows it.
#[rustfmt::skip]
pub const SWITCH_TYPES: [SwitchType; 7] = [
    SwitchType { switch_type: 1, name: "grid", view: View::Grid },
    SwitchType { switch_type: 2, name: "speaker", view: View::Speaker },
    SwitchType { switch_type: 3, name: "speaker (alternate)", view: View::Speaker },
    SwitchType { switch_type: 4, name: "member list on the right", view: View::Custom },
    SwitchType { switch_type: 5, name: "top-L", view: View::Custom },
    SwitchType { switch_type: 6, name: "bottom-L", view: View::Custom },
    SwitchType { switch_type: 7, name: "surround", view: View::Custom },
];

pub const GRID: u8 = 1;

/// The view of a switch type the room has accepted (1–7).
pub fn view_of(switch_type: u8) -> View {
    SWITCH_TYPES
        .iter()
        .find(|t| t.switch_type == switch_type)
        .map_or(View::Grid, |t| t.view)
}

fn screen(view: View, show_small_view: bool) -> ScreenLayout {
    ScreenLayout {
        layout_model: 0,
        show_small_view,
        layout_type: view.layout_type(),
    }
}

#[derive(Debug, Clone)]
pub struct Layout {
    switch_type: u8,
    show_voice_active: bool,
    /// Whether this meeting has switched to a speaker layout yet: the first such switch forces
    /// the voice-activity window on (vendor rule).
    speaker_switched: bool,
}

impl Default for Layout {
    fn default() -> Self {
        Self {
            switch_type: GRID,
            show_voice_active: true,
            speaker_switched: false,
        }
    }
}

impl Layout {
    pub fn view(&self) -> View {
        view_of(self.switch_type)
    }

    /// Applies a switch the room has already allowed (in a meeting, with someone else there).
    pub fn switch(&mut self, switch_type: u8, show_voice_active: Option<bool>) {
        if view_of(switch_type) == View::Speaker {
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
        *self = Self::default();
    }

    /// `layout_info` on `setup`: the screens all zero outside a meeting; the switches enabled
    /// when `switchable` (in a meeting with someone else there).
    pub fn info(&self, setup: ScreenSetup, in_meeting: bool, switchable: bool) -> LayoutInfo {
        let (main, secondary) = if in_meeting {
            let view = self.view();
            let small_view = view == View::Speaker && self.show_voice_active;
            let main = screen(view, small_view);
            let secondary = match setup {
                ScreenSetup::Single => ScreenLayout::default(),
                ScreenSetup::DualMirrored => main,
                ScreenSetup::DualExtended => screen(view.beside(), false),
            };
            (main, secondary)
        } else {
            (ScreenLayout::default(), ScreenLayout::default())
        };
        let layout_switch_list = SWITCH_TYPES
            .iter()
            .map(|t| LayoutSwitchEntry {
                switch_type: t.switch_type,
                enable: switchable,
                show_voice_active: (t.view == View::Speaker).then_some(self.show_voice_active),
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

    fn single(l: &Layout) -> LayoutInfo {
        l.info(ScreenSetup::Single, true, true)
    }

    #[test]
    fn first_speaker_switch_forces_the_voice_window() {
        let mut l = Layout::default();
        l.switch(2, Some(false));
        let main = single(&l).main_screen_layout_info;
        assert!(main.show_small_view);
        assert_eq!(main.layout_type, 1);
        l.switch(3, Some(false));
        assert!(!single(&l).main_screen_layout_info.show_small_view);
        // Absent: keeps the previous value.
        l.switch(2, None);
        assert!(!single(&l).main_screen_layout_info.show_small_view);
    }

    #[test]
    fn switch_types_map_to_layout_types() {
        let mut l = Layout::default();
        for (t, expected) in [(1, 2), (2, 1), (3, 1), (4, 3), (5, 3), (6, 3), (7, 3)] {
            l.switch(t, None);
            let info = single(&l);
            assert_eq!(
                info.main_screen_layout_info.layout_type, expected,
                "switch_type {t}"
            );
            assert_eq!(info.layout_switch_info.current_switch_type, t);
        }
    }

    #[test]
    fn voice_active_only_on_speaker_entries() {
        let info = single(&Layout::default());
        let list = &info.layout_switch_info.layout_switch_list;
        let types: Vec<u8> = list.iter().map(|e| e.switch_type).collect();
        assert_eq!(types, [1, 2, 3, 4, 5, 6, 7]);
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
        let mut l = Layout::default();
        l.switch(2, None);
        assert_eq!(
            single(&l).secondary_screen_layout_info,
            ScreenLayout::default()
        );

        l.switch(5, None);
        let mirrored = l.info(ScreenSetup::DualMirrored, true, true);
        assert_eq!(
            mirrored.secondary_screen_layout_info,
            mirrored.main_screen_layout_info
        );

        let extended = |l: &Layout| {
            l.info(ScreenSetup::DualExtended, true, true)
                .secondary_screen_layout_info
                .layout_type
        };
        assert_eq!(extended(&l), 2, "grid beside a custom layout");
        l.switch(1, None);
        assert_eq!(extended(&l), 1, "the speaker beside the grid");
        l.switch(3, None);
        assert_eq!(extended(&l), 2, "grid beside the speaker");
    }

    #[test]
    fn outside_a_meeting_everything_is_zero_and_disabled() {
        let info = Layout::default().info(ScreenSetup::DualExtended, false, false);
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
        let mut l = Layout::default();
        l.switch(2, None);
        l.switch(2, Some(false));
        l.reset();
        assert_eq!(single(&l).layout_switch_info.current_switch_type, GRID);
        l.switch(3, Some(false));
        assert!(single(&l).main_screen_layout_info.show_small_view);
    }
}
