//! Property tests: random runs of calls, the meeting service's answers and reports, and display
//! hot-plug. After every step the room must have moved only as the tables say (`meeting.rs`'s
//! and `machine.rs`'s), told subscribers what changed, and kept the invariants of PROTOCOL.md
//! §3 and §4.1.

use proptest::prelude::*;
use serde_json::{Value, json};

use super::machine::{
    Answer, LAYOUT_TRANSITIONS, LayoutState, MeetingState, Next, SCREEN_TRANSITIONS, Signal,
};
use super::meeting::{call_rule, signal_transition};
use super::props_service::answer;
use super::props_steps::{OUTPUTS, Step, screens, step};
use super::snapshot::Snapshot;
use super::test_support::{details, screen};
use super::*;
use crate::config::{ScreenCount, ScreenMode};
use crate::domain::{BackendEvent, Happening, RoomRole};

/// A room under test, the operations it has asked the service for, and what the test knows
/// independently of it.
struct Run {
    room: Room,
    pending: Vec<BackendCall>,
    mode: ScreenMode,
    /// Outputs connected, once hot-plug has said.
    outputs: Option<Vec<String>>,
    configured_dual: bool,
    reachable: bool,
    /// A speaker layout has been chosen in this meeting.
    speaker_switched: bool,
    /// The room's role and the other participants, as the service last said.
    role: RoomRole,
    others: usize,
    /// Reports about the current attempt that came while it was still joining: the room
    /// applies them after the answer, and so does this model.
    early: Vec<Early>,
}

/// A report held back while joining, as the model sees it.
#[derive(Debug, Clone, Copy)]
enum Early {
    Participants(usize),
    Admitted(usize),
    Signal(Signal),
}

impl Run {
    fn new(count: ScreenCount, mode: ScreenMode) -> Self {
        let mut config = Config::default();
        config.screens.count = count;
        config.screens.mode = mode;
        Self {
            room: crate::room::test_support::room_for(&config),
            pending: Vec::new(),
            mode,
            outputs: None,
            configured_dual: count == ScreenCount::Two,
            reachable: true,
            speaker_switched: false,
            role: RoomRole::Attendee,
            others: 0,
            early: Vec::new(),
        }
    }

    fn report(&mut self, happening: Happening, stale: bool) -> Vec<Effect> {
        let session = if stale {
            Some(Session(u64::MAX))
        } else {
            self.room.phase.session()
        };
        self.room.happen(BackendEvent { session, happening })
    }

    fn reach(&mut self, connected: bool) -> Vec<Effect> {
        // Gone with an error: known to be away (a service never reached, with no error yet,
        // is not refused).
        let health = crate::domain::Health {
            connected,
            last_error: if connected { "" } else { "gone" }.into(),
            ..crate::domain::Health::unknown()
        };
        self.room.health_changed(&health)
    }

    /// A report about the current attempt while joining waits for the answer.
    fn hold_if_joining(
        &mut self,
        effects: Vec<Effect>,
        before: MeetingState,
        stale: bool,
        current: Option<Session>,
        signal: Signal,
    ) -> (Vec<Effect>, Option<Signal>) {
        if stale || current.is_none() {
            return (effects, None);
        }
        if before == MeetingState::Joining {
            self.early.push(Early::Signal(signal));
            return (effects, None);
        }
        (effects, Some(signal))
    }

    /// The answer to a start or join, then the reports held back while joining: the room must
    /// end where the tables lead, with each transition's event.
    fn check_signals(
        &mut self,
        before: MeetingState,
        answer: Option<Signal>,
        early: &[Early],
        effects: Vec<Effect>,
    ) -> Vec<Effect> {
        let mut state = before;
        let expect = |state: &mut MeetingState, signal: Signal| {
            if let Some(t) = signal_transition(*state, signal) {
                let ev = super::test_support::events(&effects)
                    .into_iter()
                    .find(|e| e.name == t.event)
                    .unwrap_or_else(|| panic!("{signal:?} in {state:?} without {}", t.event));
                if signal == answer.unwrap_or(signal) {
                    assert_eq!(ev.code != ErrorCode::OK, t.failed, "{ev:?}");
                }
                *state = t.to;
            }
        };
        if let Some(signal) = answer {
            expect(&mut state, signal);
        }
        if state != MeetingState::Idle {
            for held in early {
                match *held {
                    Early::Participants(n) => self.others = n,
                    Early::Admitted(n) => {
                        if state == MeetingState::WaitingRoom {
                            (self.role, self.others) = (RoomRole::Attendee, n);
                        }
                        expect(&mut state, Signal::Admitted);
                    }
                    Early::Signal(signal) => expect(&mut state, signal),
                }
            }
        }
        assert_eq!(self.room.phase.state(), state, "answer then {early:?}");
        if state == MeetingState::Idle {
            self.others = 0;
        }
        self.keep(effects)
    }

    fn keep(&mut self, effects: Vec<Effect>) -> Vec<Effect> {
        for effect in &effects {
            if let Effect::Run(call) = effect {
                self.pending.push(call.clone());
            }
        }
        effects
    }

    /// Applies a step; checks that the meeting state moved as the tables say.
    fn apply(&mut self, step: &Step) -> Vec<Effect> {
        let before = self.room.phase.state();
        let current = self.room.phase.session();
        let (effects, signal) = match step.clone() {
            Step::Call(action) => return self.call(action),
            Step::Answer {
                pick,
                ok,
                waiting_room,
                role,
                others,
            } => {
                if self.pending.is_empty() {
                    return Vec::new();
                }
                let op = self.pending.remove(pick % self.pending.len());
                // What the service finds is adopted by an Idle room only.
                let found = op.name == "reconcile" && ok && before == MeetingState::Idle;
                let (completed, session, signal) = answer(op, ok, waiting_room, role, others);
                let signal = signal.filter(|_| session.is_some() && session == current);
                let signal = if found { Some(Signal::Found) } else { signal };
                if found {
                    (self.role, self.others) = (role, others);
                }
                let effects = self.room.complete(completed);
                if before == MeetingState::Joining && signal.is_some() {
                    if matches!(signal, Some(Signal::Entered | Signal::Waiting)) {
                        (self.role, self.others) = (role, others);
                    }
                    let early = std::mem::take(&mut self.early);
                    return self.check_signals(before, signal, &early, effects);
                }
                (effects, signal)
            }
            Step::Participants(n) => {
                let people = details(RoomRole::Host, n).participants;
                let effects = self.report(Happening::Participants(people), false);
                if before == MeetingState::Joining {
                    self.early.push(Early::Participants(n));
                } else if current.is_some() {
                    self.others = n;
                }
                (effects, None)
            }
            Step::Admitted(n) => {
                let meeting = Box::new(details(RoomRole::Attendee, n));
                let effects = self.report(Happening::Admitted(meeting), false);
                if before == MeetingState::Joining {
                    self.early.push(Early::Admitted(n));
                    (effects, None)
                } else {
                    if before == MeetingState::WaitingRoom {
                        (self.role, self.others) = (RoomRole::Attendee, n);
                    }
                    (effects, current.map(|_| Signal::Admitted))
                }
            }
            Step::HostEnded { stale } => {
                let effects = self.report(Happening::HostEnded, stale);
                self.hold_if_joining(effects, before, stale, current, Signal::HostEnded)
            }
            Step::Removed { stale } => {
                let effects = self.report(Happening::Removed, stale);
                self.hold_if_joining(effects, before, stale, current, Signal::Removed)
            }
            Step::Reachable(reachable) => {
                let lost = self.reachable && !reachable;
                self.reachable = reachable;
                (self.reach(reachable), lost.then_some(Signal::Lost))
            }
            Step::Displays(plugged) => {
                let names: Vec<String> = OUTPUTS
                    .iter()
                    .zip(plugged)
                    .filter(|(_, on)| *on)
                    .map(|(name, _)| name.to_string())
                    .collect();
                self.outputs = Some(names.clone());
                (self.room.displays_changed(&names), None)
            }
            Step::Cast(on) => {
                let action = if on { screen() } else { ShareAction::Stop };
                (
                    self.room.apply(Command::Share(action)).unwrap_or_default(),
                    None,
                )
            }
        };
        let after = self.room.phase.state();
        if after != MeetingState::Joining {
            // Out of joining another way (the service lost): what was held goes with it.
            self.early.clear();
        }
        match signal.and_then(|s| signal_transition(before, s)) {
            Some(t) => {
                assert_eq!(after, t.to, "{:?} in {before:?}", t.on);
                let ev = super::test_support::events(&effects)
                    .into_iter()
                    .find(|e| e.name == t.event)
                    .unwrap_or_else(|| panic!("{:?} in {before:?} without {}", t.on, t.event));
                assert_eq!(ev.code != ErrorCode::OK, t.failed, "{ev:?}");
            }
            None => assert_eq!(
                after, before,
                "{step:?} moved the room, and no table says so"
            ),
        }
        self.keep(effects)
    }

    /// A `Call/Meeting`: accepted or refused exactly as `CALLS` says.
    fn call(&mut self, action: MeetingAction) -> Vec<Effect> {
        let before = self.room.phase.state();
        let call = action.name();
        let speaker = matches!(
            action,
            MeetingAction::SwitchLayout {
                switch_type: 2 | 3,
                ..
            }
        );
        let expected_code = self.spec_ack(before, &action);
        let result = self.room.apply(Command::Meeting(action));
        let after = self.room.phase.state();
        let code = result.as_ref().err().map_or(0, |r| r.code.0);
        assert_eq!(code, expected_code, "{call:?} in {before:?}: {result:?}");
        match (call_rule(before, call).expect("a rule").answer, &result) {
            (Answer::Accept { next, .. }, Ok(_)) => {
                let expected = match next {
                    Next::To(state) => state,
                    Next::Stays => before,
                };
                assert_eq!(after, expected, "{call:?} accepted in {before:?}");
            }
            (Answer::Refuse(..), Ok(_)) => panic!("{call:?} accepted in {before:?}"),
            (_, Err(_)) => {}
        }
        if call == "SwitchLayout"
            && let Ok(effects) = &result
        {
            let layout = self.layout_state();
            let row = LAYOUT_TRANSITIONS
                .iter()
                .find(|t| t.on == "SwitchLayout" && t.from == layout && t.to == layout)
                .expect("LAYOUT_TRANSITIONS has the switch");
            let events = super::test_support::events(effects);
            assert!(events.iter().any(|e| e.name == row.event), "{events:?}");
        }
        if result.is_err() {
            assert_eq!(after, before, "a refused call changes nothing");
        }
        if speaker && result.is_ok() {
            let main = self.tree()["meeting"]["layout_info"]["main_screen_layout_info"].clone();
            if !self.speaker_switched {
                assert_eq!(
                    main["show_small_view"], true,
                    "the first speaker switch forces the voice window"
                );
            }
            self.speaker_switched = true;
        }
        self.keep(result.unwrap_or_default())
    }

    fn tree(&self) -> Value {
        self.room.tree()
    }

    /// The acknowledgement PROTOCOL.md §4 gives `action` in `state`, written out from the spec
    /// rather than from `CALLS`, so that a wrong table fails here.
    fn spec_ack(&self, state: MeetingState, action: &MeetingAction) -> u32 {
        use MeetingState::{
            Dissolving, Idle, InMeeting, Joining, Leaving, LeavingWaitingRoom, WaitingRoom,
        };
        let exiting = matches!(state, Leaving | Dissolving);
        let in_meeting = matches!(state, InMeeting | Leaving | Dissolving);
        match action {
            MeetingAction::Start(_) | MeetingAction::Join { .. } => match state {
                Idle if self.room.share.casting() => {
                    if matches!(action, MeetingAction::Start(_)) {
                        10026
                    } else {
                        10027
                    }
                }
                Idle if !self.reachable => 12,
                Idle => 0,
                Joining => 17,
                _ => 10001,
            },
            MeetingAction::LeaveWaitingRoom => match state {
                WaitingRoom => 0,
                LeavingWaitingRoom => 17,
                _ => 10000,
            },
            MeetingAction::Leave if state == InMeeting => 0,
            MeetingAction::Dissolve if state == InMeeting => {
                if self.role == RoomRole::Attendee {
                    10022
                } else {
                    0
                }
            }
            MeetingAction::Leave | MeetingAction::Dissolve if exiting => 17,
            MeetingAction::Leave | MeetingAction::Dissolve => 10000,
            MeetingAction::SwitchLayout { .. } if !in_meeting => 10000,
            MeetingAction::SwitchLayout { .. } if self.others == 0 => 10032,
            MeetingAction::SwitchLayout { .. } => 0,
            // An action the steps (`props_steps.rs`) do not make needs no spec here.
            #[allow(unreachable_patterns)]
            other => panic!("no spec for {other:?}: write its row above when a step makes it"),
        }
    }

    fn layout_state(&self) -> LayoutState {
        match self.room.phase.state().status() {
            1 if self.others == 0 => LayoutState::Alone,
            1 => LayoutState::Switchable,
            _ => LayoutState::Off,
        }
    }
}

const ZERO: &str = r#"{"layout_model":0,"show_small_view":false,"layout_type":0}"#;

fn zero() -> Value {
    serde_json::from_str(ZERO).unwrap()
}

/// PROTOCOL.md §4.1's layout rules, read from the tree.
fn check_layout(run: &Run, tree: &Value) {
    let meeting = &tree["meeting"];
    let layout = &meeting["layout_info"];
    let switch = &layout["layout_switch_info"];
    let in_meeting = meeting["meeting_info"]["meeting_status"] == 1;
    let enabled = in_meeting && run.others >= 1;
    assert_eq!(switch["layout_switch_enable"], enabled);
    let list = switch["layout_switch_list"].as_array().unwrap();
    assert_eq!(list.len(), 7);
    for (i, entry) in list.iter().enumerate() {
        assert_eq!(entry["switch_type"], i + 1);
        assert_eq!(entry["enable"], enabled);
        assert_eq!(
            entry.get("show_voice_active").is_some(),
            matches!(i + 1, 2 | 3),
            "show_voice_active only on speaker entries: {entry}"
        );
    }
    let main = &layout["main_screen_layout_info"];
    let secondary = &layout["secondary_screen_layout_info"];
    if !in_meeting {
        assert_eq!(switch["current_switch_type"], 1, "grid outside a meeting");
        assert_eq!((main, secondary), (&zero(), &zero()));
        return;
    }
    let switch_type = switch["current_switch_type"].as_u64().unwrap();
    let main_type = match switch_type {
        1 => 2,
        2 | 3 => 1,
        _ => 3,
    };
    assert_eq!(main["layout_type"], main_type);
    match meeting["multi_scree_info"]["multi_screen_status"]
        .as_u64()
        .unwrap()
    {
        0 => assert_eq!(secondary, &zero(), "one screen"),
        1 => assert_eq!(
            secondary["layout_type"],
            if main_type == 2 { 1 } else { 2 },
            "extended"
        ),
        _ => assert_eq!(secondary, main, "mirrored"),
    }
}

/// The screens as configured, or as the connected outputs say.
fn check_screens(run: &Run, tree: &Value) {
    let dual = run
        .outputs
        .as_ref()
        .map_or(run.configured_dual, |o| o.len() >= 2);
    let expected = match (dual, run.mode) {
        (false, _) => 0,
        (true, ScreenMode::Extend) => 1,
        (true, ScreenMode::Mirror) => 2,
    };
    let info = &tree["meeting"]["multi_scree_info"];
    assert_eq!(info["multi_screen_status"], expected);
    let main = match &run.outputs {
        _ if !dual => "",
        Some(outputs) if !outputs.iter().any(|o| o == "HDMI-A-1") => &outputs[0],
        _ => "HDMI-A-1",
    };
    assert_eq!(info["main_monitor_id"], main);
}

/// Every object's keys, so that no key ever goes missing (PROTOCOL.md §3).
fn shape(value: &Value) -> Value {
    match value {
        Value::Object(map) => map.iter().map(|(k, v)| (k.clone(), shape(v))).collect(),
        _ => Value::Null,
    }
}

/// `Query` answers every node of the tree with that node.
fn check_query(tree: &Value) {
    let snapshot = Snapshot::build(tree);
    let mut stack = vec![(Vec::<String>::new(), tree)];
    while let Some((path, node)) = stack.pop() {
        let fragment = snapshot
            .fragment(&path)
            .unwrap_or_else(|| panic!("Query {path:?} has no answer"));
        let answered: Value = serde_json::from_str(fragment).unwrap();
        if let Some(key) = path.last()
            && path.len() > 1
        {
            assert_eq!(answered, json!({ key: node }), "Query {path:?}");
        }
        if let Value::Object(children) = node {
            for (key, child) in children {
                let mut child_path = path.clone();
                child_path.push(key.clone());
                stack.push((child_path, child));
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn the_room_keeps_its_rules(
        (count, mode) in screens(),
        steps in prop::collection::vec(step(), 1..60),
    ) {
        let mut run = Run::new(count, mode);
        let initial_shape = shape(&run.tree());
        for step in &steps {
            let layout_before = run.layout_state();
            let screens_before = run.room.screens.info();
            let setup_before = run.room.screens.setup();
            let attempt = run.room.phase.session();
            let effects = run.apply(step);
            let failed = super::test_support::events(&effects)
                .iter()
                .any(|e| e.name == "JoinMeetingCompleted" && e.code != ErrorCode::OK);
            if failed {
                let abandoned = effects.iter().any(
                    |e| matches!(e, Effect::Abandon(s) if Some(*s) == attempt),
                );
                prop_assert!(abandoned, "a failed attempt is abandoned: {:?}", step);
            }
            let tree = run.tree();
            let names: Vec<&str> = super::test_support::events(&effects)
                .iter()
                .map(|e| e.name)
                .collect();

            let layout_after = run.layout_state();
            if layout_before != layout_after {
                prop_assert!(
                    LAYOUT_TRANSITIONS
                        .iter()
                        .any(|t| t.from == layout_before && t.to == layout_after),
                    "layout {layout_before:?} → {layout_after:?} on {step:?}"
                );
                let t = LAYOUT_TRANSITIONS
                    .iter()
                    .find(|t| t.from == layout_before && t.to == layout_after)
                    .unwrap();
                prop_assert!(
                    t.event.is_empty() || names.contains(&t.event),
                    "{step:?} did not send {}", t.event
                );
            }
            if layout_after == LayoutState::Off {
                run.speaker_switched = false;
            }
            if run.room.screens.info() != screens_before {
                prop_assert!(names.contains(&"MultiScreenChanged"), "{step:?}");
            }
            let setup_after = run.room.screens.setup();
            if setup_before != setup_after {
                prop_assert!(
                    SCREEN_TRANSITIONS.iter().any(|t| t.from == setup_before && t.to == setup_after),
                    "screens {setup_before:?} → {setup_after:?}"
                );
            }
            check_layout(&run, &tree);
            check_screens(&run, &tree);
            // Lists (members, meetings) are shapeless here: their length comes and goes.
            prop_assert_eq!(
                shape(&tree),
                initial_shape.clone(),
                "a key went missing or appeared after {:?}", step
            );
            check_query(&tree);
        }
    }
}
