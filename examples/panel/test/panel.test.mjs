// Drives the panel in headless Chromium against a running roomsd with the embedded simulator:
//   node panel.test.mjs http://127.0.0.1:PORT SCREENSHOT.png [PASSWORD]
// Exits 0 when a person could have run the meeting with it, 1 (saying why) otherwise.
import { chromium } from "playwright-core";

const [base, screenshot, password] = process.argv.slice(2);
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: ["--no-sandbox"],
});

function check(condition, what) {
  if (!condition) throw new Error(what);
}

try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 860 } });
  const problems = [];
  page.on("pageerror", (error) => problems.push(String(error)));
  const text = (id) => page.locator(id).textContent();
  const layoutButtons = page.locator("#layouts button");
  const waitText = (id, value) => page.locator(id, { hasText: value }).waitFor({ timeout: 5000 });

  // "/" leads to the panel, which connects (with the password from the fragment, which then
  // leaves the address bar) and shows the room idle.
  const fragment = password ? `#password=${encodeURIComponent(password)}` : "";
  await page.goto(`${base}/${fragment}`);
  await waitText("#connection", "connected");
  check(!page.url().includes("password"), `the password left the address bar: ${page.url()}`);
  await waitText("#status", "Idle");
  check((await layoutButtons.count()) === 7, "seven layout buttons");
  for (const button of await layoutButtons.all()) {
    check(await button.isDisabled(), "layouts are disabled outside a meeting");
  }
  await waitText("#meeting-list", "Weekly sync");

  // Join by code, as typed on a panel.
  await page.fill("#join-code", "111 222 333");
  await page.click("#join-button");
  await waitText("#status", "In meeting");
  check((await text("#title")) === "Weekly sync", "the meeting's title");
  check((await text("#code")) === "111 222 333", "the formatted code");
  check(await page.locator("#join-button").isDisabled(), "no second join");

  // Others are there: layouts are enabled, and a switch shows as current.
  await page.locator("#layouts button:not([disabled])").first().waitFor({ timeout: 5000 });
  await page.click('#layouts button[data-switch-type="2"]');
  await page.locator('#layouts button.current[data-switch-type="2"]').waitFor({ timeout: 5000 });

  // The microphone toggles, as the daemon confirms.
  const micBefore = await page.getAttribute("#mic", "aria-pressed");
  await page.click("#mic");
  await page.waitForFunction(
    (before) => document.querySelector("#mic").getAttribute("aria-pressed") !== before,
    micBefore,
    { timeout: 5000 },
  );

  await page.screenshot({ path: screenshot, fullPage: true });

  await page.click("#leave");
  await waitText("#status", "Idle");
  check(await layoutButtons.first().isDisabled(), "layouts disabled again after leaving");

  // A wrong password is told, with its code.
  await page.fill("#join-code", "222333444");
  await page.fill("#join-password", "wrong");
  await page.click("#join-button");
  await waitText("#message", "password");
  await waitText("#message", "10020");
  await waitText("#status", "Idle");

  check(problems.length === 0, `no script errors: ${problems.join("; ")}`);
  console.log("panel: ok");
} catch (error) {
  console.error(`panel: ${error.message}`);
  process.exitCode = 1;
} finally {
  await browser.close();
}
