// What the panel shows, drawn from the state the daemon holds plus what this panel has under
// way. Nothing here talks to the daemon: the buttons' actions come in as `act`.

const STATUS = {
  0: "Idle", 1: "In meeting", 2: "Joining…", 3: "In the waiting room",
  4: "Casting to the room", 5: "Phone call",
};
const LAYOUTS = {
  1: "Grid", 2: "Speaker", 3: "Speaker (alt)", 4: "Member list",
  5: "Top-L", 6: "Bottom-L", 7: "Surround",
};

const $ = (id) => document.getElementById(id);

function clock(seconds) {
  return new Date(seconds * 1000).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
}

// Whether every action is held back: no connection, or an action still under way (the panel's
// own, or a join the daemon reports from another client).
export function locked(state) {
  return !state.connected || Boolean(state.sending || state.underWay) ||
    state.meeting?.meeting_info.meeting_status === 2;
}

// The meeting service is known to be away: the daemon refuses start and join with 12.
export function serviceAway(state) {
  return state.backend !== null && !state.backend.connected && state.backend.last_error !== "";
}

export function roomName(state) {
  return state.device?.device_info.device_name || state.meeting?.self_info.nickname || "Room";
}

export function render(state, act) {
  const name = roomName(state);
  $("room").textContent = name;
  document.title = `${name} · room panel`;
  renderBackend(state.backend);
  if (state.meeting) renderMeeting(state, act);
  renderDevices(state);
  renderShare(state);
}

function renderBackend(backend) {
  const banner = $("backend-banner");
  banner.hidden = !backend || backend.connected;
  if (banner.hidden) return;
  banner.textContent = backend.last_error
    ? `The meeting service is unreachable: meetings cannot be started or joined until it is back. (${backend.last_error})`
    : "Contacting the meeting service…";
}

function renderMeeting(state, act) {
  const { meeting_info: info, self_info: self } = state.meeting;
  const status = info.meeting_status;
  const hold = locked(state);
  const inMeeting = status === 1;
  $("status").textContent = state.underWay ?? STATUS[status] ?? `Status ${status}`;
  $("meeting").setAttribute("aria-busy", String(hold && state.connected));
  $("title").textContent = info.meeting_title || "—";
  $("code").textContent = info.formatted_meeting_code || "—";
  const time = info.meeting_time;
  $("time").textContent = time.begin_time ? `${clock(time.begin_time)}–${clock(time.end_time)}` : "—";
  const canBegin = !hold && status === 0 && !serviceAway(state);
  $("start").disabled = !canBegin;
  $("join-button").disabled = !canBegin;
  $("leave").disabled = hold || !inMeeting;
  $("end").disabled = hold || !inMeeting || !(self.host || self.co_host);
  $("leave-waiting").disabled = hold || status !== 3;
  $("leave-waiting").hidden = status !== 3;
  renderList(state.meeting.meeting_list, canBegin, act);
  renderLayouts(state.meeting.layout_info.layout_switch_info, inMeeting, hold, act);
}

function renderList(list, canJoin, act) {
  const ul = $("meeting-list");
  if (list.length === 0) {
    ul.innerHTML = '<li class="empty">No meetings booked.</li>';
    return;
  }
  ul.replaceChildren(...list.map((m) => {
    const li = document.createElement("li");
    const text = document.createElement("span");
    text.textContent = `${clock(m.meeting_time.begin_time)} ${m.meeting_title} · ${m.formatted_meeting_code}`;
    const join = document.createElement("button");
    join.type = "button";
    join.textContent = "Join";
    join.setAttribute("aria-label", `Join ${m.meeting_title}`);
    join.dataset.meetingCode = m.meeting_code;
    join.disabled = !canJoin;
    join.onclick = () => act("Meeting", "JoinMeeting", { meeting_code: m.meeting_code, password: "" });
    li.append(text, join);
    return li;
  }));
}

function renderLayouts(switchInfo, inMeeting, hold, act) {
  $("layouts").replaceChildren(...switchInfo.layout_switch_list.map((entry) => {
    const button = document.createElement("button");
    button.type = "button";
    button.textContent = LAYOUTS[entry.switch_type] ?? `Layout ${entry.switch_type}`;
    button.dataset.switchType = entry.switch_type;
    button.disabled = hold || !entry.enable;
    const current = inMeeting && entry.switch_type === switchInfo.current_switch_type;
    button.classList.toggle("current", current);
    button.setAttribute("aria-pressed", String(current));
    button.onclick = () => act("Meeting", "SwitchLayout", { switch_type: entry.switch_type });
    return button;
  }));
  $("layout-hint").textContent = switchInfo.layout_switch_enable
    ? "" : "Layouts can be switched in a meeting once someone else has joined.";
}

function renderDevices(state) {
  const device = state.device;
  const hold = locked(state) || !device;
  $("mic").disabled = hold;
  $("camera").disabled = hold;
  $("speaker-volume").disabled = hold;
  $("mic-volume").disabled = hold;
  if (!device) return;
  toggle("mic", device.mic_info.switch, "on", "off (muted)");
  toggle("camera", device.camera_info.switch, "on", "off");
  // Leave a slider alone while it is being dragged.
  if (document.activeElement !== $("speaker-volume")) $("speaker-volume").value = device.speaker_info.volume;
  if (document.activeElement !== $("mic-volume")) $("mic-volume").value = device.mic_info.volume;
}

// On or off in words and a struck-through icon, not only in colour.
function toggle(id, on, onText, offText) {
  $(id).setAttribute("aria-pressed", String(on));
  $(`${id}-state`).textContent = on ? onText : offText;
}

function renderShare(state) {
  const share = state.share;
  const hold = locked(state) || !share;
  const status = state.meeting?.meeting_info.meeting_status ?? 0;
  const sharing = Boolean(share?.share_info.is_sharing);
  const casting = share?.share_info.quick_casting_state === 2;
  $("cast-code").textContent = share?.cast_code || "—";
  $("share-state").textContent = !share ? "—" : sharing
    ? (status === 1 ? "Sharing this computer's screen into the meeting" : "Showing this computer's screen in the room")
    : casting ? "Someone is casting to the room" : "Not sharing";
  // Sharing is refused while joining or in the waiting room.
  $("share-start").disabled = hold || sharing || status === 2 || status === 3;
  $("share-stop").disabled = hold || !(sharing || casting || status === 4);
}
