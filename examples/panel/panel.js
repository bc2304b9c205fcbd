// A touch panel for roomsd: plain JavaScript over the Rooms control protocol (JSON-RPC 2.0 over
// WebSocket). It queries the state tree, subscribes to events, and re-reads a module whenever one
// of its events arrives, so what it shows is what the daemon holds; on top of that it shows what
// it has itself under way (a join between its acknowledgement and its outcome).
import { Connection, setPassword, takePasswordFromFragment } from "./connection.js";
import { MemberList, Members } from "./members.js";
import { locked, render } from "./render.js";

const $ = (id) => document.getElementById(id);

const state = {
  connected: false,
  meeting: null, device: null, share: null, backend: null, members: null,
  sending: null, // the action whose acknowledgement is awaited
  underWay: null, // what an accepted meeting action is doing until its outcome event
};

// Meeting actions are acknowledged at once and end in an event; between the two the panel
// says what is happening and holds every button.
const UNDER_WAY = {
  StartMeeting: "Starting…", JoinMeeting: "Joining…", LeaveMeeting: "Leaving…",
  DissolveMeeting: "Ending the meeting…", LeaveWaitingRoom: "Leaving the waiting room…",
};
const OUTCOMES = new Set([
  "JoinMeetingCompleted", "JoinWaitingRoom", "LeaveMeeting", "DissolveMeeting", "LeaveWaitingRoom",
]);
const MODULES = ["Meeting", "Device", "Share", "Backend", "MeetingControl"];
const PASSWORD_CODES = new Set([10018, 10020]);
// What failed, in the room user's words rather than the protocol's event and action names.
const WHAT = {
  JoinMeetingCompleted: "Could not join or start the meeting", JoinMeeting: "Could not join",
  StartMeeting: "Could not start a meeting", LeaveMeeting: "Leaving the meeting",
  DissolveMeeting: "Ending the meeting", LeaveWaitingRoom: "Leaving the waiting room",
  EnableMic: "Microphone", EnableCamera: "Camera", SetSpeakerVolume: "Speaker volume",
  SetMicVolume: "Microphone volume", SwitchLayout: "Layout", StartShare: "Could not share",
  StopShare: "Could not stop sharing", MuteMember: "Could not mute",
  RemoveMember: "Could not remove",
};
const what = (name) => WHAT[name] ?? name;

let outcomeWhileSending = false;

const connection = new Connection({ onOpen: opened, onEvent: received, onDown: lost });
const members = new MemberList({
  onMute: (member) => act("MeetingControl", "MuteMember", { user_id: member.user_id }),
  onRemove: (member) => confirm(`Remove ${member.nickname} from the meeting?`) &&
    act("MeetingControl", "RemoveMember", { user_id: member.user_id }),
});

function show() {
  render(state, act);
  showMembers();
}

function showMembers() {
  const self = state.meeting?.self_info;
  const status = state.meeting?.meeting_info.meeting_status;
  members.render({
    members: state.members,
    inMeeting: status === 1,
    selfId: self?.user_id,
    canModerate: Boolean(self?.host || self?.co_host),
    locked: locked(state),
  });
}

async function opened() {
  state.connected = true;
  missedEvents = 0;
  setConnection("online", "connected");
  say("");
  $("password-form").hidden = true;
  try {
    for (const module of MODULES) await connection.subscribe([module]);
    await Promise.all(["Meeting", "Device", "Share", "Backend", "Members"].map(refresh));
    if (connection.missedLost) setConnection("online", "connected again: state reloaded");
  } catch (error) {
    say(String(error.message ?? error), true);
  }
  show();
}

function lost(why) {
  state.connected = false;
  state.sending = null;
  state.underWay = null;
  if (why === "retrying") {
    setConnection("offline", "disconnected: retrying");
  } else {
    setConnection("offline", "password needed");
    $("password-reason").textContent = why === "password-missing"
      ? "This room needs its password to be controlled."
      : "That password was not accepted. Try again (after many wrong ones, wait a little).";
    $("password-form").hidden = false;
    $("password-input").value = "";
    $("password-input").focus();
  }
  show();
}

let missedEvents = 0;

function received(module, event, missed) {
  // Events published while the panel was away come first, once each, then live ones.
  if (missed) setConnection("online", `connected again: caught up on ${++missedEvents} missed events`);
  if (event.error_code !== 0) say(`${what(event.sub_event)}: ${event.message || "failed"} (${event.error_code})`, true);
  if (module === "Meeting") {
    if (OUTCOMES.has(event.sub_event)) {
      state.underWay = null;
      if (state.sending) outcomeWhileSending = true;
      if (PASSWORD_CODES.has(event.error_code)) askMeetingPassword(event.data?.meeting_info);
    }
    if (event.sub_event === "MembersChanged") {
      // Only the list changed: the rest of the page is not redrawn.
      state.members?.apply(event.data);
      return showMembers();
    }
  }
  if (module === "Backend") {
    state.backend = event.data.backend;
    return show();
  }
  if (module === "MeetingControl") return;
  const again = [module];
  if (module === "Meeting" && OUTCOMES.has(event.sub_event)) again.push("Members", "Share");
  Promise.all(again.map(refresh)).then(show, (error) => say(String(error.message ?? error), true));
}

// A booked meeting that turned out to have a password: its code goes into the join form, and
// the cursor into the password field.
function askMeetingPassword(info) {
  if (info?.meeting_code) $("join-code").value = info.meeting_code;
  $("join-password").focus();
}

async function refresh(module) {
  const result = await connection.rpc("Query", { path: [module] });
  if (module === "Members") state.members = new Members(result.data);
  else state[module.toLowerCase()] = result.data[module.toLowerCase()];
}

// Runs an action. A refusal is shown; an accepted meeting action is shown as under way until
// its outcome event arrives.
async function act(module, action, params) {
  if (state.sending) return;
  state.sending = action;
  outcomeWhileSending = false;
  show();
  try {
    const request = params ? { action, action_params: params } : { action };
    const result = await connection.rpc(`Call/${module}`, request);
    if (result.error_code !== 0) {
      say(`${what(action)}: ${result.message} (${result.error_code})`, true);
    } else {
      say("");
      if (module === "Meeting" && UNDER_WAY[action] && !outcomeWhileSending) {
        state.underWay = UNDER_WAY[action];
      }
    }
  } catch (error) {
    say(`${what(action)}: ${error.message}`, true);
  } finally {
    state.sending = null;
    show();
  }
  // The acknowledgement changed the daemon's state (meeting_status 2 while joining).
  if (module === "Meeting" && connection.isOpen) refresh("Meeting").then(show, () => {});
}

function setConnection(kind, text) {
  $("connection").className = `badge ${kind}`;
  $("connection").textContent = text;
}

// Errors appear at the top of the page, which stays in view when scrolled, until dismissed or
// the next action succeeds.
function say(text, isError = false) {
  $("message").textContent = text;
  $("toast").hidden = !text;
  $("toast").classList.toggle("error", isError);
}

$("toast-close").onclick = () => say("");
$("start").onclick = () => act("Meeting", "StartMeeting", { meeting_type: "instant" });
$("leave").onclick = () => act("Meeting", "LeaveMeeting");
$("end").onclick = () => confirm("End the meeting for everyone?") && act("Meeting", "DissolveMeeting");
$("leave-waiting").onclick = () => act("Meeting", "LeaveWaitingRoom");
$("join").onsubmit = (event) => {
  event.preventDefault();
  act("Meeting", "JoinMeeting", {
    meeting_code: $("join-code").value,
    password: $("join-password").value,
  });
};
$("mic").onclick = () => act("Device", "EnableMic", { enable: !state.device.mic_info.switch });
$("camera").onclick = () => act("Device", "EnableCamera", { enable: !state.device.camera_info.switch });
$("speaker-volume").onchange = (e) => act("Device", "SetSpeakerVolume", { volume: Number(e.target.value) });
$("mic-volume").onchange = (e) => act("Device", "SetMicVolume", { volume: Number(e.target.value) });
$("share-start").onclick = () => act("Share", "StartShare", { share_type: 0 });
$("share-stop").onclick = () => act("Share", "StopShare");
$("password-form").onsubmit = (event) => {
  event.preventDefault();
  setPassword($("password-input").value);
  $("password-form").hidden = true;
  setConnection("", "connecting…");
  connection.connect();
};

takePasswordFromFragment();
show();
connection.connect();
