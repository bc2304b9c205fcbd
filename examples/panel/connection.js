// The link to the daemon that served this page: one WebSocket, JSON-RPC requests matched to
// their answers by id, and the room's password. Subscriptions ask for numbered events and, after
// a lost connection, resume after the last event received (docs/CONTINUITY.md), so the events
// published while the panel was away arrive first, once each, in order.

const PASSWORD_KEY = "roomsd-password";
const RETRY_MS = 2000;
const CANNOT_RESUME = 18; // the daemon no longer has the events after our position

// A password comes in the fragment (/panel/#password=…), which browsers never send over the
// network; it is kept for this tab only and removed from the address bar and history at once.
export function takePasswordFromFragment() {
  const fragment = new URLSearchParams(location.hash.slice(1));
  if (fragment.has("password")) {
    sessionStorage.setItem(PASSWORD_KEY, fragment.get("password"));
    history.replaceState(null, "", location.pathname + location.search);
  }
}

export function setPassword(password) {
  sessionStorage.setItem(PASSWORD_KEY, password);
}

function storedPassword() {
  return sessionStorage.getItem(PASSWORD_KEY) || "";
}

// "auth-" + base64 of the password's UTF-8 bytes, URL-encoded, as roomsd expects.
function authProtocol(secret) {
  const bytes = new TextEncoder().encode(secret);
  return "auth-" + encodeURIComponent(btoa(String.fromCharCode(...bytes)));
}

// Why a socket that never opened was refused. A browser cannot read the HTTP status of a failed
// upgrade, so the daemon says at /panel/access.json whether it wants a password (no password
// travels there). Wanted and not given: ask for it. Wanted and given: it was not accepted.
async function whyRefused(triedPassword) {
  try {
    const response = await fetch("/panel/access.json", { cache: "no-store" });
    const { password_required: required } = await response.json();
    if (!required) return "retrying";
    return triedPassword ? "password-rejected" : "password-missing";
  } catch {
    return "retrying"; // The daemon itself is away.
  }
}

export class Connection {
  // onOpen(), onEvent(module, params, missed), onDown(why): missed is true for an event
  // published while the panel was away; why is "retrying", "password-missing" or
  // "password-rejected"; after the last two it waits for connect() with a new password.
  constructor({ onOpen, onEvent, onDown }) {
    this.handlers = { onOpen, onEvent, onDown };
    this.position = null; // { epoch, seq } of the last event received
    this.resumeFrom = null; // where this connection's subscriptions resume from
    this.caughtUpTo = 0; // events numbered up to this are replayed ones
    this.missedLost = false; // a resume was refused: what happened while away is unknown
    this.url = `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/ws`;
    this.socket = null;
    this.pending = new Map();
    this.nextId = 1;
    this.retryTimer = null;
  }

  get isOpen() {
    return this.socket?.readyState === WebSocket.OPEN;
  }

  connect() {
    clearTimeout(this.retryTimer);
    const password = storedPassword();
    const socket = new WebSocket(this.url, password ? [authProtocol(password)] : []);
    this.socket = socket;
    let opened = false;
    socket.onopen = () => {
      opened = true;
      this.resumeFrom = this.position;
      this.caughtUpTo = 0;
      this.missedLost = false;
      this.handlers.onOpen();
    };
    socket.onmessage = (message) => this.receive(JSON.parse(message.data));
    socket.onclose = async () => {
      for (const { reject } of this.pending.values()) reject(new Error("connection lost"));
      this.pending.clear();
      if (this.socket !== socket) return;
      const why = opened ? "retrying" : await whyRefused(password);
      this.handlers.onDown(why);
      // A refused password is not tried again by itself: each try counts as a guess.
      if (why === "retrying") this.retryTimer = setTimeout(() => this.connect(), RETRY_MS);
    };
  }

  rpc(method, params) {
    if (!this.isOpen) return Promise.reject(new Error("not connected to the room"));
    return new Promise((resolve, reject) => {
      const id = this.nextId++;
      this.pending.set(id, { resolve, reject });
      this.socket.send(JSON.stringify({ jsonrpc: "2.0", id, method, params }));
    });
  }

  // Subscribes to a path: from now on the first time, after the last event received on a
  // connection that replaces a lost one. The same position serves every path of a connection,
  // since the replays move this.position while the panel subscribes.
  async subscribe(path) {
    const from = this.resumeFrom;
    const params = from ? { path, since: from.seq, epoch: from.epoch } : { path, since: 0 };
    let result = await this.rpc("Subscribe", params);
    if (from && result.error_code === CANNOT_RESUME) {
      // The daemon restarted, or the panel was away too long: its Query shows the state.
      this.resumeFrom = null;
      this.missedLost = true;
      result = await this.rpc("Subscribe", { path, since: 0 });
    }
    if (result.error_code !== 0) throw new Error(`${result.message} (${result.error_code})`);
    const { epoch, seq } = result.data;
    if (this.position?.epoch !== epoch) this.position = { epoch, seq };
    if (this.resumeFrom) this.caughtUpTo = Math.max(this.caughtUpTo, seq);
  }

  receive(frame) {
    if (frame.id !== undefined && this.pending.has(frame.id)) {
      const { resolve, reject } = this.pending.get(frame.id);
      this.pending.delete(frame.id);
      if (frame.result) resolve(frame.result);
      else reject(new Error(frame.error?.message || "no answer"));
      return;
    }
    if (frame.method?.startsWith("Event/")) {
      const { seq } = frame.params;
      if (this.position && seq > this.position.seq) this.position.seq = seq;
      const missed = Boolean(this.resumeFrom) && seq <= this.caughtUpTo;
      this.handlers.onEvent(frame.method.slice("Event/".length), frame.params, missed);
    }
  }
}
