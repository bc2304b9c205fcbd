// The member list. A meeting may hold a thousand people, so only the first pages are put in the
// page; the count is always whole. It is read once with Query ["Members"] and kept up to date
// from MembersChanged, which carries only what changed (PROTOCOL.md §6.2). An event costs the
// panel what it changed: the kept list is updated in place, and only rows whose member changed
// are drawn anew.

const PAGE = 50;
const $ = (id) => document.getElementById(id);

const ROLES = { 1: "host", 2: "co-host" };

// The member list as the daemon holds it: members by user_id in the daemon's order (a Map keeps
// insertion order, as the daemon does: updated in place, joined at the end), and the counts.
export class Members {
  // `answer`: the data of Query ["Members"].
  constructor(answer) {
    const list = answer?.user_list_info ?? [];
    this.byId = new Map(list.map((member) => [member.user_id, member]));
    this.count = answer?.member_count ?? { in_meeting: list.length, in_waiting_room: 0 };
  }

  // A MembersChanged `change`: joined and updated put by user_id, left removed.
  apply(change) {
    for (const member of change.joined ?? []) this.byId.set(member.user_id, member);
    for (const member of change.updated ?? []) this.byId.set(member.user_id, member);
    for (const id of change.left ?? []) this.byId.delete(id);
    this.count = change.member_count;
  }

  // The first `n` members.
  first(n) {
    const out = [];
    for (const member of this.byId.values()) {
      if (out.length === n) break;
      out.push(member);
    }
    return out;
  }

  get size() {
    return this.byId.size;
  }
}

export class MemberList {
  // onMute(member), onRemove(member): the room's moderation, offered when it is host.
  constructor({ onMute, onRemove }) {
    this.actions = { onMute, onRemove };
    this.shown = PAGE;
    this.forget();
    $("members-more").onclick = () => {
      this.shown += PAGE;
      this.render(this.last);
    };
  }

  // Nothing drawn is kept: the next render draws every row.
  forget() {
    this.rows = new Map(); // user_id → { member, li }, for the rows on the page
    this.drawnWith = null;
    this.countText = null;
  }

  // view: { members (a Members), inMeeting, selfId, canModerate, locked }. Rows are drawn
  // anew only for members that changed; the rest keep their elements.
  render(view) {
    this.last = view;
    const section = $("members-section");
    section.hidden = !view.inMeeting;
    if (!view.inMeeting) {
      this.shown = PAGE;
      this.forget();
      return;
    }
    const { members, selfId, canModerate, locked } = view;
    // A change of who may do what redraws every row's buttons.
    const drawnWith = [selfId, canModerate, locked];
    if (!this.drawnWith || drawnWith.some((part, i) => part !== this.drawnWith[i])) {
      this.rows = new Map();
      this.drawnWith = drawnWith;
    }

    const count = members?.count ?? { in_meeting: 0, in_waiting_room: 0 };
    const people = count.in_meeting === 1 ? "1 person" : `${count.in_meeting} people`;
    const waiting = count.in_waiting_room ? ` · ${count.in_waiting_room} waiting` : "";
    const countText = `${people} in the meeting${waiting}`;
    if (countText !== this.countText) $("member-count").textContent = this.countText = countText;

    const page = members ? members.first(this.shown) : [];
    const rows = new Map();
    let same = page.length === $("member-list").children.length;
    const lis = page.map((member, i) => {
      const kept = this.rows.get(member.user_id);
      const li = kept?.member === member
        ? kept.li
        : this.row(member, member.user_id === selfId, canModerate, locked);
      rows.set(member.user_id, { member, li });
      same &&= $("member-list").children[i] === li;
      return li;
    });
    this.rows = rows;
    if (!same) $("member-list").replaceChildren(...lis);
    const more = $("members-more");
    const left = (members?.size ?? 0) - page.length;
    more.hidden = left <= 0;
    more.textContent = `Show ${Math.min(left, PAGE)} more (${left} not shown)`;
  }

  row(member, isRoom, canModerate, locked) {
    const li = document.createElement("li");
    li.className = "member";
    li.dataset.userId = member.user_id;
    const who = document.createElement("span");
    who.className = "who";
    const role = ROLES[member.role_type] ?? (member.host ? "host" : member.co_host ? "co-host" : "");
    who.textContent = member.nickname + (isRoom ? " (this room)" : "") + (role ? ` · ${role}` : "");
    const media = document.createElement("span");
    media.className = "media";
    media.append(
      badge(member.audio_on, "mic", "mic on", "muted"),
      badge(member.video_on, "camera", "camera on", "camera off"),
    );
    if (member.screen_sharing) media.append(badge(true, "screen", "sharing", ""));
    const about = document.createElement("span");
    about.className = "about";
    about.append(who, media);
    li.append(about);
    if (canModerate && !isRoom) {
      const controls = document.createElement("span");
      controls.className = "controls";
      const mute = button("Mute", `Mute ${member.nickname}`, locked || !member.audio_on);
      mute.classList.add("mute");
      mute.onclick = () => this.actions.onMute(member);
      const remove = button("Remove", `Remove ${member.nickname} from the meeting`, locked);
      remove.classList.add("remove", "danger");
      remove.onclick = () => this.actions.onRemove(member);
      controls.append(mute, remove);
      li.append(controls);
    }
    return li;
  }
}

// Inline SVG rather than emoji: a room computer may have no emoji font.
const SVG = "http://www.w3.org/2000/svg";
const SHAPES = {
  mic: ["M9 6a3 3 0 0 1 6 0v5a3 3 0 0 1-6 0z", "M5 11a7 7 0 0 0 14 0M12 18v3"],
  camera: ["M3 9a2 2 0 0 1 2-2h8a2 2 0 0 1 2 2v6a2 2 0 0 1-2 2H5a2 2 0 0 1-2-2z", "M15 11l6-3v8l-6-3"],
  screen: ["M3 5h18v11H3z", "M8 20h8M12 16v4"],
};

function icon(kind, off) {
  const svg = document.createElementNS(SVG, "svg");
  svg.setAttribute("viewBox", "0 0 24 24");
  svg.setAttribute("class", "icon small");
  svg.setAttribute("aria-hidden", "true");
  for (const d of off ? [...SHAPES[kind], "M4 4l16 16"] : SHAPES[kind]) {
    const shape = document.createElementNS(SVG, "path");
    shape.setAttribute("d", d);
    svg.append(shape);
  }
  return svg;
}

// A state in words; the icon is decoration, struck through when off, so it reads without colour.
function badge(on, kind, onText, offText) {
  const span = document.createElement("span");
  span.className = on ? "on" : "off";
  span.append(icon(kind, !on), on ? onText : offText);
  return span;
}

function button(text, label, disabled) {
  const b = document.createElement("button");
  b.type = "button";
  b.textContent = text;
  b.setAttribute("aria-label", label);
  b.disabled = disabled;
  return b;
}
