// Drives the panel in headless Chromium against running roomsd daemons (tests/it/panel.rs starts
// them and passes, in the environment):
//   PANEL_BASE               a room with the simulator, PANEL_PASSWORD and slow joins
//   PANEL_PASSWORD, PANEL_ROOM
//   PANEL_SERVICE_DOWN_BASE  a room whose meeting service is unreachable, no password
//   PANEL_SCREENSHOTS        where the screenshots go
// Exits 0 when a person could have run the meeting with it, 1 (saying why) otherwise.
import path from "node:path";
import { chromium } from "playwright-core";

const env = process.env;
const base = env.PANEL_BASE;
const password = env.PANEL_PASSWORD;
const DESKTOP = { width: 1024, height: 768 };
const PHONE = { width: 390, height: 844 };
const WAIT = { timeout: 5000 };

const browser = await chromium.launch({
  executablePath: env.CHROMIUM || "/usr/bin/chromium",
  args: ["--no-sandbox"],
});
const problems = [];

function check(condition, what) {
  if (!condition) throw new Error(what);
}

async function open(url, viewport = DESKTOP) {
  const page = await browser.newPage({ viewport });
  page.on("pageerror", (error) => problems.push(String(error)));
  // Every socket the page opens, so that the test can cut the panel's as a Wi-Fi drop would.
  await page.addInitScript(() => {
    const Native = window.WebSocket;
    window.pageSockets = [];
    window.WebSocket = class extends Native {
      constructor(...args) {
        super(...args);
        window.pageSockets.push(this);
      }
    };
  });
  page.on("dialog", (dialog) => dialog.accept()); // "End for everyone?", "Remove …?"
  await page.goto(url);
  return page;
}

const waitText = (page, selector, value) =>
  page.locator(selector, { hasText: value }).first().waitFor(WAIT);
const disabled = (page, selectors) =>
  Promise.all(selectors.map((s) => page.locator(s).isDisabled()));

// A screenshot of what the person sees, and the layout checks it stands for: nothing wider than
// the screen, and the given elements wholly inside it without scrolling.
async function shoot(page, name, inView) {
  await page.screenshot({ path: path.join(env.PANEL_SCREENSHOTS, `${name}.png`) });
  const { width, height } = page.viewportSize();
  const scrollWidth = await page.evaluate(() => document.documentElement.scrollWidth);
  check(scrollWidth <= width, `${name}: the page is ${scrollWidth}px wide on a ${width}px screen`);
  for (const selector of inView) {
    const box = await page.locator(selector).boundingBox();
    check(box, `${name}: ${selector} is shown`);
    check(box.x >= 0 && box.y >= 0 && box.x + box.width <= width && box.y + box.height <= height,
      `${name}: ${selector} is inside the ${width}×${height} screen (${JSON.stringify(box)})`);
  }
}

// A second client in the page, independent of the panel's code: it sees the daemon's own
// events and answers, so the test can tell when the daemon finished something.
async function watchDaemon(page) {
  await page.evaluate(async (secret) => {
    const bytes = new TextEncoder().encode(secret);
    const auth = "auth-" + encodeURIComponent(btoa(String.fromCharCode(...bytes)));
    const socket = new WebSocket(`ws://${location.host}/ws`, [auth]);
    socket.isWatcher = true;
    const seen = (window.daemonSeen = { events: [], answers: new Map() });
    let nextId = 1;
    window.daemonRequest = (method, params) => new Promise((resolve) => {
      const id = `watch-${nextId++}`;
      seen.answers.set(id, resolve);
      socket.send(JSON.stringify({ jsonrpc: "2.0", id, method, params }));
    });
    window.daemonQuery = async (p) => (await window.daemonRequest("Query", { path: p })).data;
    socket.onmessage = (message) => {
      const frame = JSON.parse(message.data);
      if (frame.method?.startsWith("Event/")) {
        seen.events.push({ name: frame.params.sub_event, at: performance.now() });
        if (frame.params.sub_event === "MembersChanged") {
          seen.memberCount = frame.params.data.member_count.in_meeting;
        }
      } else if (seen.answers.has(frame.id)) {
        seen.answers.get(frame.id)(frame.result);
      }
    };
    await new Promise((resolve) => (socket.onopen = resolve));
    socket.send(JSON.stringify({ jsonrpc: "2.0", id: "s", method: "Subscribe", params: { path: ["Meeting"] } }));
  }, password);
}
const daemonQuery = (page, p) => page.evaluate((p) => window.daemonQuery(p), p);
const daemonCall = (page, module, action, params) => page.evaluate(
  ({ module, action, params }) =>
    window.daemonRequest(`Call/${module}`, { action, action_params: params }),
  { module, action, params });

// Records when a press happened, when the status first said `word`, and which of `buttons`
// were disabled at that moment.
function recordFirst(page, pressed, word, buttons) {
  return page.evaluate(({ pressed, word, buttons }) => {
    const record = (window.recorded = {});
    document.querySelector(pressed).addEventListener("click", () => {
      record.pressedAt = performance.now();
    }, { capture: true });
    const status = document.querySelector("#status");
    new MutationObserver((changes, observer) => {
      if (!status.textContent.includes(word)) return;
      record.shownAt = performance.now();
      record.disabled = buttons.map((b) => document.querySelector(b).disabled);
      observer.disconnect();
    }).observe(status, { childList: true, characterData: true, subtree: true });
  }, { pressed, word, buttons });
}

try {
  // The room's own page, with the password in the fragment, which then leaves the address bar.
  const page = await open(`${base}/#password=${encodeURIComponent(password)}`);
  await waitText(page, "#connection", "connected");
  check(!page.url().includes("password"), `the password left the address bar: ${page.url()}`);
  await waitText(page, "#status", "Idle");
  check((await page.textContent("#room")) === env.PANEL_ROOM, "the room's name heads the page when idle");
  check((await page.title()).includes(env.PANEL_ROOM), "and names the tab");
  const micState = await page.textContent("#mic-state");
  check(/^(on|off \(muted\))$/.test(micState), `the microphone's state in words: "${micState}"`);
  const layoutButtons = page.locator("#layouts button");
  check((await layoutButtons.count()) === 7, "seven layout buttons");
  for (const button of await layoutButtons.all()) {
    check(await button.isDisabled(), "layouts are disabled outside a meeting");
  }
  await waitText(page, "#meeting-list", "Weekly sync");
  await shoot(page, "desktop-idle", ["#room", "#status", "#start", "#join-code", "#join-button", "#mic", "#camera"]);
  await page.setViewportSize(PHONE);
  await shoot(page, "phone-idle", ["#room", "#status", "#start", "#join-button"]);
  await page.setViewportSize(DESKTOP);

  // Join by code, as typed on a panel, with a join that takes a while: "Joining…" and every
  // action held from the acknowledgement on, before the daemon has finished the join.
  await watchDaemon(page);
  const held = ["#start", "#join-button", "#leave", "#end", "#mic", "#camera", "#share-start"];
  await recordFirst(page, "#join-button", "Joining", held);
  await page.fill("#join-code", "111 222 333");
  await page.click("#join-button");
  await waitText(page, "#status", "Joining");
  check((await disabled(page, held)).every(Boolean), "every action is held while joining");
  await shoot(page, "desktop-joining", ["#status", "#join-button"]);
  await waitText(page, "#status", "In meeting");
  const { recorded, completedAt } = await page.evaluate(() => ({
    recorded: window.recorded,
    completedAt: window.daemonSeen.events.find((e) => e.name === "JoinMeetingCompleted")?.at,
  }));
  check(recorded.shownAt !== undefined, "the status said Joining");
  check(completedAt !== undefined, "the daemon finished the join");
  check(recorded.shownAt < completedAt, "Joining was shown before the join completed");
  check(recorded.disabled.every(Boolean), `all held when Joining appeared: ${recorded.disabled}`);
  console.log(`panel: press → Joining in ${(recorded.shownAt - recorded.pressedAt).toFixed(1)} ms` +
    ` (the join completed ${(completedAt - recorded.pressedAt).toFixed(0)} ms after the press)`);
  check((await page.textContent("#title")) === "Weekly sync", "the meeting's title");
  check((await page.textContent("#code")) === "111 222 333", "the formatted code");
  check(await page.locator("#join-button").isDisabled(), "no second join");
  check((await page.textContent("#room")) === env.PANEL_ROOM, "the room's name in a meeting too");

  // Others are there: layouts are enabled, and a switch shows as current.
  await page.locator("#layouts button:not([disabled])").first().waitFor(WAIT);
  await page.click('#layouts button[data-switch-type="2"]');
  await page.locator('#layouts button.current[data-switch-type="2"]').waitFor(WAIT);

  // The microphone toggles as the daemon confirms, and says so in words.
  const micBefore = await page.getAttribute("#mic", "aria-pressed");
  await page.click("#mic");
  await page.waitForFunction(
    (before) => document.querySelector("#mic").getAttribute("aria-pressed") !== before,
    micBefore, WAIT,
  );
  const micNow = await page.getAttribute("#mic", "aria-pressed");
  check((await page.textContent("#mic-state")) === (micNow === "true" ? "on" : "off (muted)"),
    "the microphone's words follow its state");
  // And back, by keyboard.
  await page.focus("#mic");
  await page.keyboard.press("Space");
  await page.waitForFunction(
    (before) => document.querySelector("#mic").getAttribute("aria-pressed") === before,
    micBefore, WAIT,
  );

  // Sharing into the meeting, with the room's cast code on show.
  await page.locator("#share-start:not([disabled])").waitFor(WAIT);
  await page.click("#share-start");
  await waitText(page, "#share-state", "Sharing");
  const { cast_code: castCode } = await daemonQuery(page, ["Share", "CastCode"]);
  check((await page.textContent("#cast-code")) === castCode, `the cast code ${castCode} is shown`);
  check(await page.locator("#cast-code").isVisible(), "the cast code is visible");
  await shoot(page, "desktop-meeting", ["#status", "#leave", "#mic", "#camera"]);
  await page.click("#share-stop");
  await waitText(page, "#share-state", "Not sharing");

  // The people in the meeting, without moderation: the room is not host here.
  await page.locator("#members-section").waitFor(WAIT);
  check((await page.locator("#member-list li.member").count()) >= 2, "the members are listed");
  check((await page.locator("#member-list button").count()) === 0, "no mute or remove when not host");

  // The panel's connection is cut mid-meeting, as Wi-Fi drops. While it is away the room
  // changes; when it is back it has caught up on every event it missed, and shows them.
  await page.evaluate(() => {
    for (const socket of window.pageSockets) if (!socket.isWatcher) socket.close();
  });
  await waitText(page, "#connection", "disconnected");
  for (const [module, action, params] of [
    ["Device", "SetSpeakerVolume", { volume: 37 }],
    ["Device", "SetMicVolume", { volume: 42 }],
    ["Meeting", "SwitchLayout", { switch_type: 3 }],
  ]) {
    const answer = await daemonCall(page, module, action, params);
    check(answer.error_code === 0, `${action} while the panel is away: ${JSON.stringify(answer)}`);
  }
  check((await page.textContent("#connection")).includes("disconnected"), "still away meanwhile");
  await waitText(page, "#connection", "caught up on");
  await page.locator('#layouts button.current[data-switch-type="3"]').waitFor(WAIT);
  await page.waitForFunction(() => document.querySelector("#speaker-volume").value === "37" &&
    document.querySelector("#mic-volume").value === "42", null, WAIT);
  const caughtUp = Number((await page.textContent("#connection")).match(/caught up on (\d+)/)[1]);
  check(caughtUp >= 3, `the three changes made while away were replayed: ${caughtUp}`);
  console.log(`panel: reconnected and caught up on ${caughtUp} missed events`);
  await shoot(page, "desktop-reconnected", ["#connection", "#status"]);

  await page.click("#leave");
  await waitText(page, "#status", "Idle");
  check(await layoutButtons.first().isDisabled(), "layouts disabled again after leaving");
  check(await page.locator("#members-section").isHidden(), "no member list outside a meeting");

  // A refusal is told where the person is looking, with its code: here at the bottom of the
  // page, pressing Join on a locked meeting in the list.
  const lockedJoin = page.locator('#meeting-list button[data-meeting-code="444555666"]');
  await lockedJoin.scrollIntoViewIfNeeded();
  await lockedJoin.click();
  await waitText(page, "#message", "10015");
  await shoot(page, "desktop-error", ["#toast", "#message"]);
  await waitText(page, "#status", "Idle");
  await page.click("#toast-close");
  check(await page.locator("#toast").isHidden(), "the message can be dismissed");
  await page.evaluate(() => window.scrollTo(0, 0));

  // A wrong meeting password is told, with its code.
  await page.fill("#join-code", "222333444");
  await page.fill("#join-password", "wrong");
  await page.press("#join-password", "Enter");
  await waitText(page, "#message", "password");
  await waitText(page, "#message", "10020");
  await waitText(page, "#status", "Idle");

  // A meeting of a thousand where the room is host: the count, one page of people, more on
  // demand, and mute and remove that the daemon carries out.
  await page.fill("#join-code", "999000111");
  await page.fill("#join-password", "");
  await page.click("#join-button");
  await waitText(page, "#status", "In meeting");
  const { member_count: count } = await daemonQuery(page, ["Members"]);
  await waitText(page, "#member-count", `${count.in_meeting} people`);
  const rows = page.locator("#member-list li.member");
  check((await rows.count()) === 50, `one page of 50 people, not ${await rows.count()}`);
  check((await rows.first().textContent()).includes("(this room)"), "the room comes first");
  await page.click("#members-more");
  await page.waitForFunction(() => document.querySelectorAll("#member-list li.member").length === 100, null, WAIT);

  const target = page.locator("#member-list li.member:has(button.mute:not([disabled]))").first();
  const targetId = await target.getAttribute("data-user-id");
  const targetRow = page.locator(`#member-list li.member[data-user-id="${targetId}"]`);
  check((await targetRow.textContent()).includes("mic on"), "a member with the mic on");
  await targetRow.locator("button.mute").click();
  await waitText(page, `#member-list li.member[data-user-id="${targetId}"]`, "muted");
  check(await targetRow.locator("button.mute").isDisabled(), "a muted member cannot be muted again");
  const mutedOnDaemon = (await daemonQuery(page, ["Members"])).user_list_info
    .find((m) => m.user_id === targetId);
  check(mutedOnDaemon && !mutedOnDaemon.audio_on, "the daemon has the member muted");

  const leaverId = await rows.nth(2).getAttribute("data-user-id");
  await rows.nth(2).locator("button.remove").click();
  await page.waitForFunction(
    (id) => !document.querySelector(`#member-list li.member[data-user-id="${id}"]`),
    leaverId, WAIT,
  );
  await waitText(page, "#member-count", `${count.in_meeting - 1} people`);
  await page.locator("#members-section").scrollIntoViewIfNeeded();
  await page.screenshot({ path: path.join(env.PANEL_SCREENSHOTS, "desktop-members.png") });
  await page.evaluate(() => window.scrollTo(0, 0));
  await page.setViewportSize(PHONE);
  await shoot(page, "phone-meeting", ["#room", "#status", "#leave", "#end"]);
  await page.setViewportSize(DESKTOP);
  await page.screenshot({ path: path.join(env.PANEL_SCREENSHOTS, "desktop-meeting-full.png"), fullPage: true });

  await page.click("#end");
  await waitText(page, "#status", "Idle");

  // A webinar of a thousand where someone comes or goes about every 20 ms: the panel shows the
  // count and the first page, and follows the daemon; an event redraws only the rows it changed.
  await page.fill("#join-code", "999000222");
  await page.click("#join-button");
  await waitText(page, "#status", "In meeting");
  await page.waitForFunction(() => document.querySelectorAll("#member-list li.member").length === 50, null, WAIT);
  const roomRow = await page.evaluateHandle(() => document.querySelector("#member-list li.member"));
  const shownCount = () => page.evaluate(() => document.querySelector("#member-count").textContent);
  for (let sample = 0; sample < 5; sample++) {
    await page.waitForTimeout(400);
    // Both sockets are in the page: the panel's count catches up with the daemon's own events.
    await page.waitForFunction(() => {
      const count = window.daemonSeen.memberCount;
      return count !== undefined &&
        document.querySelector("#member-count").textContent.startsWith(`${count} people`);
    }, null, WAIT).catch(async () => {
      throw new Error(`the panel shows "${await shownCount()}", the daemon counts ${await page.evaluate(() => window.daemonSeen.memberCount)}`);
    });
  }
  const changes = await page.evaluate(() => window.daemonSeen.events.filter((e) => e.name === "MembersChanged").length);
  check(changes >= 10, `the meeting changed while watched (${changes} MembersChanged)`);
  check(await roomRow.evaluate((li) => li.isConnected && li.textContent.includes("(this room)")),
    "the room's row was never drawn anew: events redraw only the rows they change");
  // The first page is the daemon's first page (tried until no change falls between the reads).
  let same = false;
  for (let attempt = 0; attempt < 20 && !same; attempt++) {
    const daemonPage = (await page.evaluate(() =>
      window.daemonRequest("Query", { path: ["Members"], begin: 0, count: 50 }))).data.user_list_info.map((m) => m.user_id);
    const shown = await page.evaluate(() =>
      [...document.querySelectorAll("#member-list li.member")].map((li) => li.dataset.userId));
    same = JSON.stringify(daemonPage) === JSON.stringify(shown);
  }
  check(same, "the panel's first page is the daemon's");
  await page.click("#leave");
  await waitText(page, "#status", "Idle");

  // Opened without the password: held, and asked for it; the right one connects.
  const asked = await open(`${base}/`);
  await asked.locator("#password-form").waitFor(WAIT);
  await waitText(asked, "#password-reason", "needs its password");
  check((await disabled(asked, ["#start", "#leave", "#end", "#join-button"])).every(Boolean),
    "nothing can be pressed without the password");
  await shoot(asked, "desktop-password", ["#password-input", "#password-submit"]);
  await asked.fill("#password-input", "not it");
  await asked.press("#password-input", "Enter");
  await waitText(asked, "#password-reason", "not accepted");
  await asked.fill("#password-input", password);
  await asked.click("#password-submit");
  await waitText(asked, "#connection", "connected");
  await waitText(asked, "#status", "Idle");
  check(await asked.locator("#password-form").isHidden(), "the prompt goes once connected");
  check(!asked.url().includes("room"), `the password stays out of the address: ${asked.url()}`);

  // A room whose meeting service is away says so, at the top, and does not offer to meet.
  const away = await open(`${env.PANEL_SERVICE_DOWN_BASE}/`);
  await waitText(away, "#backend-banner", "unreachable");
  await waitText(away, "#connection", "connected");
  check((await disabled(away, ["#start", "#join-button"])).every(Boolean), "no start or join while away");
  await shoot(away, "desktop-service-down", ["#backend-banner", "#start"]);
  await away.setViewportSize(PHONE);
  await shoot(away, "phone-service-down", ["#backend-banner"]);

  check(problems.length === 0, `no script errors: ${problems.join("; ")}`);
  console.log("panel: ok");
} catch (error) {
  console.error(`panel: ${error.message}`);
  process.exitCode = 1;
} finally {
  await browser.close();
}
