//! Property tests: random runs of calls, the meeting service's answers and reports, and display
//! hot-plug. After every step the room must have moved only as `machine`'s tables say, told
//! subscribers what changed, and kept the invariants of PROTOCOL.md §3 and §4.1.

use proptest::prelude::*;
use serde_json::{Value, json};

use super::machine::{
    Answer, Call, LAYOUT_TRANSITIONS, LayoutState, Next, Signal, call_rule, signal_transition,
};
use super::snapshot::Snapshot;
use super::test_support::{details, screen};
use super::*;
use crate::backend::{BackendEvent, Happening, RoomRole};
use crate::config::{ScreenCount, ScreenMode};
use crate::modules::meeting::StartKind;

#[derive(Debug, Clone)]
enum Step {
    Call(MeetingAction),
    /// The service answers one of the operations under way (`pick` modulo how many).
    Answer {
        pick: usize,
        ok: bool,
        waiting_room: bool,
        role: RoomRole,
        others: usize,
    },
    Participants(usize),
    Admitted(usize),
    HostEnded,
    Removed,
    Reachable(bool),
    /// This many outputs are connected.
    Displays(usize),
    /// A cast to the room starts or stops.
    Cast(bool),
}

fn meeting_action() -> impl Strategy<Value = MeetingAction> {
    prop_oneof![
        Just(MeetingAction::Start(StartKind::Instant)),
        Just(MeetingAction::Join {
            code: "111222333".into(),
            password: String::new(),
            mic_enable: None,
            camera_enable: None,
        }),
        Just(MeetingAction::LeaveWaitingRoom),
        Just(MeetingAction::Leave),
        Just(MeetingAction::Dissolve),
        (1u8..=7, proptest::option::of(any::<bool>())).prop_map(
            |(switch_type, show_voice_active)| MeetingAction::SwitchLayout {
                switch_type,
                show_voice_active,
            }
        ),
    ]
}

fn role() -> impl Strategy<Value = RoomRole> {
    prop_oneof![
        Just(RoomRole::Host),
        Just(RoomRole::CoHost),
        Just(RoomRole::Attendee)
    ]
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        4 => meeting_action().prop_map(Step::Call),
        4 => (any::<usize>(), prop::bool::weighted(0.8), any::<bool>(), role(), 0usize..3)
            .prop_map(|(pick, ok, waiting_room, role, others)| Step::Answer {
                pick,
                ok,
                waiting_room,
                role,
                others,
            }),
        2 => (0usize..4).prop_map(Step::Participants),
        1 => (0usize..3).prop_map(Step::Admitted),
        1 => Just(Step::HostEnded),
        1 => Just(Step::Removed),
        1 => any::<bool>().prop_map(Step::Reachable),
        2 => (0usize..4).prop_map(Step::Displays),
        1 => any::<bool>().prop_map(Step::Cast),
    ]
}

fn screens() -> impl Strategy<Value = (ScreenCount, ScreenMode)> {
    (
        prop_oneof![Just(ScreenCount::One), Just(ScreenCount::Two)],
        prop_oneof![Just(ScreenMode::Extend), Just(ScreenMode::Mirror)],
    )
}

/// A room under test, the operations it has asked the service for, and what the test knows
/// independently of it.
struct Run {
    room: Room,
    pending: Vec<BackendOp>,
    mode: ScreenMode,
    /// Outputs connected, once hot-plug has said.
    outputs: Option<usize>,
    configured_dual: bool,
    reachable: bool,
    /// A speaker layout has been chosen in this meeting.
    speaker_switched: bool,
}

impl Run {
    fn new(count: ScreenCount, mode: ScreenMode) -> Self {
        let mut config = Config::default();
        config.screens.count = count;
        config.screens.mode = mode;
        Self {
            room: Room::new(&config, DeviceSettings::default()),
            pending: Vec::new(),
            mode,
            outputs: None,
            configured_dual: count == ScreenCount::Two,
            reachable: true,
            speaker_switched: false,
        }
    }

    fn report(&mut self, happening: Happening) -> Vec<Effect> {
        let session = self.room.phase.session();
        self.room.happen(BackendEvent { session, happening })
    }

    fn keep(&mut self, effects: Vec<Effect>) -> Vec<Effect> {
        for effect in &effects {
            if let Effect::Run(op) = effect {
                self.pending.push(op.clone());
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
                let (completed, session, signal) = answer(op, ok, waiting_room, role, others);
                let signal = signal.filter(|_| session.is_some() && session == current);
                (self.room.complete(completed), signal)
            }
            Step::Participants(n) => (
                self.report(Happening::Participants(
                    details(RoomRole::Host, n).participants,
                )),
                None,
            ),
            Step::Admitted(n) => (
                self.report(Happening::Admitted(Box::new(details(
                    RoomRole::Attendee,
                    n,
                )))),
                current.map(|_| Signal::Admitted),
            ),
            Step::HostEnded => (
                self.report(Happening::HostEnded),
                current.map(|_| Signal::HostEnded),
            ),
            Step::Removed => (
                self.report(Happening::Removed),
                current.map(|_| Signal::Removed),
            ),
            Step::Reachable(reachable) => {
                let lost = self.reachable && !reachable;
                self.reachable = reachable;
                (
                    self.report(Happening::Reachable(reachable)),
                    lost.then_some(Signal::Lost),
                )
            }
            Step::Displays(n) => {
                self.outputs = Some(n);
                let names: Vec<String> = (1..=n).map(|i| format!("DP-{i}")).collect();
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
        let call = Call::of(&action);
        let speaker = matches!(
            action,
            MeetingAction::SwitchLayout {
                switch_type: 2 | 3,
                ..
            }
        );
        let result = self.room.apply(Command::Meeting(action));
        let after = self.room.phase.state();
        match (call_rule(before, call).answer, &result) {
            (Answer::Refuse(code, _), Err(refusal)) => assert_eq!(refusal.code, code),
            (Answer::Accept { guards, .. }, Err(refusal)) => assert!(
                guards.iter().any(|g| g.code() == refusal.code),
                "{call:?} in {before:?} refused with {refusal:?}, not a guard's code"
            ),
            (Answer::Accept { next, .. }, Ok(_)) => {
                let expected = match next {
                    Next::To(state) => state,
                    Next::Stays => before,
                };
                assert_eq!(after, expected, "{call:?} accepted in {before:?}");
            }
            (Answer::Refuse(..), Ok(_)) => panic!("{call:?} accepted in {before:?}"),
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

    fn layout_state(&self) -> LayoutState {
        match self.room.phase.in_meeting() {
            None => LayoutState::Off,
            Some(m) if m.participants.is_empty() => LayoutState::Alone,
            Some(_) => LayoutState::Switchable,
        }
    }
}

/// The service's answer to `op`, the session it is for, and the signal it is to the meeting
/// state machine.
fn answer(
    op: BackendOp,
    ok: bool,
    waiting_room: bool,
    role: RoomRole,
    others: usize,
) -> (Completed, Option<Session>, Option<Signal>) {
    let failure = || Refusal::new(ErrorCode::JOIN_FAILED, "the service says no");
    let result = |ok| if ok { Ok(()) } else { Err(failure()) };
    let done = if ok { Signal::Done } else { Signal::Failed };
    let meeting = details(role, others);
    match op {
        BackendOp::Start(req) => {
            let (answer, signal) = if ok {
                (Ok(meeting), Signal::Entered)
            } else {
                (Err(failure()), Signal::Failed)
            };
            (
                Completed::Started(req.session, answer),
                Some(req.session),
                Some(signal),
            )
        }
        BackendOp::Join(req) => {
            let (answer, signal) = match (ok, waiting_room) {
                (false, _) => (Err(failure()), Signal::Failed),
                (true, true) => (Ok(Joined::WaitingRoom(meeting)), Signal::Waiting),
                (true, false) => (Ok(Joined::InMeeting(meeting)), Signal::Entered),
            };
            (
                Completed::Joined(req.session, answer),
                Some(req.session),
                Some(signal),
            )
        }
        BackendOp::Leave(s) => (Completed::Left(s, result(ok)), Some(s), Some(done)),
        BackendOp::Dissolve(s) => (Completed::Dissolved(s, result(ok)), Some(s), Some(done)),
        BackendOp::MeetingList => (Completed::MeetingList(Ok(Vec::new())), None, None),
        BackendOp::Media {
            session, change, ..
        } => (Completed::Media(session, change, result(ok)), None, None),
        BackendOp::Control(s, action) => (Completed::Controlled(s, action, result(ok)), None, None),
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
    let others = run
        .room
        .phase
        .in_meeting()
        .map_or(0, |m| m.participants.len());
    let enabled = in_meeting && others >= 1;
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
    let dual = run.outputs.map_or(run.configured_dual, |n| n >= 2);
    let expected = match (dual, run.mode) {
        (false, _) => 0,
        (true, ScreenMode::Extend) => 1,
        (true, ScreenMode::Mirror) => 2,
    };
    let info = &tree["meeting"]["multi_scree_info"];
    assert_eq!(info["multi_screen_status"], expected);
    assert_eq!(info["main_monitor_id"] == "", !dual);
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
            let effects = run.apply(step);
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
