// A touch panel for roomsd: plain JavaScript over the Rooms control protocol (JSON-RPC 2.0 over
// WebSocket). It queries the state tree, subscribes to events, and re-reads a module whenever one
// of its events arrives, so what it shows is always what the daemon holds.
"use strict";

const STATUS = {
  0: "Idle", 1: "In meeting", 2: "Joining…", 3: "In the waiting room",
  4: "Casting to the room", 5: "Phone call",
};
const LAYOUTS = {
  1: "Grid", 2: "Speaker", 3: "Speaker (alt)", 4: "Member list",
  5: "Top-L", 6: "Bottom-L", 7: "Surround",
};

const $ = (id) => document.getElementById(id);
const pending = new Map();
let socket = null;
let nextId = 1;
let state = { meeting: null, device: null };

// The panel talks only to the daemon that served it. A password comes in the fragment
// (/panel/#password=…), which browsers never send over the network; it is kept for this tab and
// removed from the address bar and history at once.
const url = `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/ws`;
const fragment = new URLSearchParams(location.hash.slice(1));
if (fragment.has("password")) {
  sessionStorage.setItem("roomsd-password", fragment.get("password"));
  history.replaceState(null, "", location.pathname + location.search);
}
const password = sessionStorage.getItem("roomsd-password") || "";

// "auth-" + base64 of the password's UTF-8 bytes, URL-encoded, as roomsd expects.
function authProtocol(secret) {
  const bytes = new TextEncoder().encode(secret);
  return "auth-" + encodeURIComponent(btoa(String.fromCharCode(...bytes)));
}

function connect() {
  const protocols = password ? [authProtocol(password)] : [];
  socket = new WebSocket(url, protocols);
  socket.onopen = async () => {
    setConnection("online", "connected");
    try {
      await rpc("Subscribe", { path: ["Meeting"] });
      await rpc("Subscribe", { path: ["Device"] });
      await Promise.all([refresh("Meeting"), refresh("Device")]);
    } catch (error) {
      say(String(error), true);
    }
  };
  socket.onmessage = (message) => receive(JSON.parse(message.data));
  socket.onclose = () => {
    setConnection("offline", "disconnected: retrying");
    for (const { reject } of pending.values()) reject(new Error("connection lost"));
    pending.clear();
    setTimeout(connect, 2000);
  };
}

function setConnection(kind, text) {
  $("connection").className = `badge ${kind}`;
  $("connection").textContent = text;
}

function rpc(method, params) {
  return new Promise((resolve, reject) => {
    const id = nextId++;
    pending.set(id, { resolve, reject });
    socket.send(JSON.stringify({ jsonrpc: "2.0", id, method, params }));
  });
}

function receive(frame) {
  if (frame.id !== undefined && pending.has(frame.id)) {
    const { resolve, reject } = pending.get(frame.id);
    pending.delete(frame.id);
    return frame.result ? resolve(frame.result) : reject(new Error(frame.error?.message));
  }
  if (frame.method?.startsWith("Event/")) {
    const event = frame.params;
    if (event.error_code !== 0) {
      say(`${event.sub_event}: ${event.message || "failed"} (${event.error_code})`, true);
    }
    refresh(frame.method.slice("Event/".length)).catch((error) => say(String(error), true));
  }
}

async function refresh(module) {
  if (module !== "Meeting" && module !== "Device") return;
  const result = await rpc("Query", { path: [module] });
  const key = module.toLowerCase();
  state[key] = result.data[key];
  render();
}

// Runs an action; a refusal is shown, the outcome comes as an event.
async function call(module, action, params) {
  const request = { action };
  if (params) request.action_params = params;
  const result = await rpc(`Call/${module}`, request);
  if (result.error_code !== 0) say(`${action}: ${result.message} (${result.error_code})`, true);
  else say("");
  return result;
}

function say(text, isError = false) {
  $("message").textContent = text;
  $("message").className = isError ? "error" : "";
}

function clock(seconds) {
  return new Date(seconds * 1000).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
}

function render() {
  const meeting = state.meeting;
  if (meeting) renderMeeting(meeting);
  if (state.device) renderDevices(state.device);
}

function renderMeeting(meeting) {
  const info = meeting.meeting_info;
  const self = meeting.self_info;
  const status = info.meeting_status;
  const inMeeting = status === 1;
  $("room").textContent = self.nickname || "Room panel";
  $("status").textContent = STATUS[status] ?? `Status ${status}`;
  $("title").textContent = info.meeting_title || "—";
  $("code").textContent = info.formatted_meeting_code || "—";
  const time = info.meeting_time;
  $("time").textContent = time.begin_time ? `${clock(time.begin_time)}–${clock(time.end_time)}` : "—";
  $("start").disabled = status !== 0;
  $("join-button").disabled = status !== 0;
  $("leave").disabled = !inMeeting;
  $("end").disabled = !inMeeting || !(self.host || self.co_host);
  $("leave-waiting").disabled = status !== 3;
  renderList(meeting.meeting_list, status === 0);
  renderLayouts(meeting.layout_info.layout_switch_info, inMeeting);
}

function renderList(list, canJoin) {
  const ul = $("meeting-list");
  ul.replaceChildren();
  if (list.length === 0) {
    ul.innerHTML = '<li class="empty">No meetings booked.</li>';
    return;
  }
  for (const m of list) {
    const li = document.createElement("li");
    const text = document.createElement("span");
    text.textContent = `${clock(m.meeting_time.begin_time)} ${m.meeting_title} · ${m.formatted_meeting_code}`;
    const join = document.createElement("button");
    join.textContent = "Join";
    join.disabled = !canJoin;
    join.onclick = () => call("Meeting", "JoinMeeting", { meeting_code: m.meeting_code, password: "" });
    li.append(text, join);
    ul.append(li);
  }
}

function renderLayouts(switchInfo, inMeeting) {
  const box = $("layouts");
  box.replaceChildren();
  for (const entry of switchInfo.layout_switch_list) {
    const button = document.createElement("button");
    button.textContent = LAYOUTS[entry.switch_type] ?? `Layout ${entry.switch_type}`;
    button.dataset.switchType = entry.switch_type;
    button.disabled = !entry.enable;
    if (inMeeting && entry.switch_type === switchInfo.current_switch_type) button.classList.add("current");
    button.onclick = () => call("Meeting", "SwitchLayout", { switch_type: entry.switch_type });
    box.append(button);
  }
  $("layout-hint").textContent = switchInfo.layout_switch_enable
    ? "" : "Layouts can be switched in a meeting once someone else has joined.";
}

function renderDevices(device) {
  $("mic").setAttribute("aria-pressed", String(device.mic_info.switch));
  $("camera").setAttribute("aria-pressed", String(device.camera_info.switch));
  // Leave a slider alone while it is being dragged.
  if (document.activeElement !== $("speaker-volume")) $("speaker-volume").value = device.speaker_info.volume;
  if (document.activeElement !== $("mic-volume")) $("mic-volume").value = device.mic_info.volume;
}

$("start").onclick = () => call("Meeting", "StartMeeting", { meeting_type: "instant" });
$("leave").onclick = () => call("Meeting", "LeaveMeeting");
$("end").onclick = () => confirm("End the meeting for everyone?") && call("Meeting", "DissolveMeeting");
$("leave-waiting").onclick = () => call("Meeting", "LeaveWaitingRoom");
$("join").onsubmit = (event) => {
  event.preventDefault();
  call("Meeting", "JoinMeeting", {
    meeting_code: $("join-code").value,
    password: $("join-password").value,
  });
};
$("mic").onclick = () => call("Device", "EnableMic", { enable: !state.device.mic_info.switch });
$("camera").onclick = () => call("Device", "EnableCamera", { enable: !state.device.camera_info.switch });
$("speaker-volume").onchange = (e) => call("Device", "SetSpeakerVolume", { volume: Number(e.target.value) });
$("mic-volume").onchange = (e) => call("Device", "SetMicVolume", { volume: Number(e.target.value) });

connect();
