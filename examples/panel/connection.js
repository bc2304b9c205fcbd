// The link to the daemon that served this page: one WebSocket, JSON-RPC requests matched to
// their answers by id, and the room's password.

const PASSWORD_KEY = "roomsd-password";
const RETRY_MS = 2000;

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
  // onOpen(), onEvent(module, params), onDown(why): why is "retrying", "password-missing" or
  // "password-rejected"; after the last two it waits for connect() with a new password.
  constructor({ onOpen, onEvent, onDown }) {
    this.handlers = { onOpen, onEvent, onDown };
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

  receive(frame) {
    if (frame.id !== undefined && this.pending.has(frame.id)) {
      const { resolve, reject } = this.pending.get(frame.id);
      this.pending.delete(frame.id);
      if (frame.result) resolve(frame.result);
      else reject(new Error(frame.error?.message || "no answer"));
      return;
    }
    if (frame.method?.startsWith("Event/")) {
      this.handlers.onEvent(frame.method.slice("Event/".length), frame.params);
    }
  }
}
