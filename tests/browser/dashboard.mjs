// Drives Debian's headless chromium (through playwright-core) against a running
// `membench serve` and checks its live dashboard the way a person would use it:
//
//   node tests/browser/dashboard.mjs <base-url> <screenshot-path>
//
// 1. the page loads and polls with no console errors, no failed or 4xx/5xx requests, and
//    no request to any origin but the server's (the page and its chart library are
//    embedded in the binary; nothing comes from a CDN);
// 2. it names the allocator the server reports;
// 3. after a few hundred /api/staticstring requests (the static-collection leak), the
//    Allocated value on the page rises by at least half of what the server says the leak
//    now holds (half: other live allocations may be freed meanwhile);
// 4. Reset calls POST /api/reset, the page shows what it dropped and the leak emptied;
// 5. Collect calls POST /api/collect and the page shows the RSS before → after of the
//    answer, and the next poll marks a reclaim event;
// 6. the endpoint list matches /api/endpoints, every link opens in a new tab, and one
//    opened link answers 200;
// 7. a full-page screenshot is written to <screenshot-path>.
//
// Prints one line per check on stdout; exits 1 with the reasons when a check fails.
// The Rust test tests/membench/dashboard.rs starts the server and runs this script.

import { mkdtempSync, rmSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { chromium } from "playwright-core";

const CHROMIUM = "/usr/bin/chromium";
/** The whole script's budget; past it the browser is closed and the script fails. */
const DEADLINE_MS = 90_000;
/** Budget of one wait for the page (a poll is once a second). */
const WAIT_MS = 15_000;
/** Leak requests, sent in batches between polls so the chart shows a ramp. */
const LEAK_REQUESTS = 500;
const LEAK_BATCHES = 5;
const VIEWPORT = { width: 1600, height: 1000 };

const [base, screenshotPath] = process.argv.slice(2);
if (!base || !screenshotPath) {
  console.error("usage: node dashboard.mjs <base-url> <screenshot-path>");
  process.exit(2);
}
const origin = new URL(base).origin;
const MB = 1_000_000;
const oneDecimal = new Intl.NumberFormat("en-US", {
  minimumFractionDigits: 1,
  maximumFractionDigits: 1,
});
/** MB with one decimal, exactly as the page formats it. */
const mb = (bytes) => oneDecimal.format(bytes / MB);

const problems = [];
const ok = (message) => console.log(`ok: ${message}`);

async function getJson(path) {
  const response = await fetch(origin + path);
  if (!response.ok) throw new Error(`GET ${path} answered ${response.status}`);
  return response.json();
}

const userDataDir = mkdtempSync(join(tmpdir(), "membench-chromium-"));
const context = await chromium.launchPersistentContext(userDataDir, {
  executablePath: CHROMIUM,
  headless: true,
  args: [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
  ],
  viewport: VIEWPORT,
  deviceScaleFactor: 1,
});
const watchdog = setTimeout(async () => {
  console.error(`fail: the browser checks did not finish within ${DEADLINE_MS / 1000} s`);
  await context.close().catch(() => {});
  rmSync(userDataDir, { recursive: true, force: true });
  process.exit(1);
}, DEADLINE_MS);

context.on("request", (request) => {
  const url = request.url();
  if (new URL(url).origin !== origin) problems.push(`request outside ${origin}: ${url}`);
});
context.on("requestfailed", (request) => {
  problems.push(`request failed: ${request.url()} (${request.failure()?.errorText})`);
});
context.on("response", (response) => {
  if (response.status() >= 400) {
    problems.push(`${response.request().method()} ${response.url()} answered ${response.status()}`);
  }
});

try {
  const page = context.pages()[0] ?? (await context.newPage());
  context.setDefaultTimeout(WAIT_MS);
  const consoleErrors = [];
  page.on("console", (message) => {
    if (message.type() === "error") consoleErrors.push(message.text());
  });
  page.on("pageerror", (error) => consoleErrors.push(`uncaught: ${error.message}`));

  const samples = () => page.evaluate(() => Number(document.body.dataset.samples ?? 0));
  const nextPoll = async () => {
    const seen = await samples();
    await page.waitForFunction((n) => Number(document.body.dataset.samples ?? 0) > n, seen);
  };
  const allocatedMb = () =>
    page.evaluate(() => Number(document.getElementById("stat-allocated").textContent.replace(/,/g, "")));

  // 1–2. Load, two polls (rates need a delta), the allocator named.
  const loaded = await page.goto(base, { waitUntil: "load" });
  if (loaded?.status() !== 200) throw new Error(`GET ${base} answered ${loaded?.status()}`);
  await page.waitForFunction(() => Number(document.body.dataset.samples ?? 0) >= 2);
  const diagnostics = await getJson("/api/diagnostics");
  const allocator = await page.textContent("#allocator");
  if (!allocator.startsWith(diagnostics.allocator)) {
    problems.push(`the page names allocator "${allocator}", the server "${diagnostics.allocator}"`);
  }
  const status = await page.getAttribute("#status", "class");
  if (!status.includes("status-live")) problems.push(`the status line is "${status}", not live`);
  ok(`page loaded and polling; allocator ${allocator}`);

  // 3. The leak makes Allocated rise.
  const before = await allocatedMb();
  const heldBefore = diagnostics.leaks.staticstring.bytes;
  for (let batch = 0; batch < LEAK_BATCHES; batch++) {
    for (let i = 0; i < LEAK_REQUESTS / LEAK_BATCHES; i++) {
      const response = await fetch(`${origin}/api/staticstring`);
      await response.arrayBuffer();
      if (response.status !== 200) throw new Error(`/api/staticstring answered ${response.status}`);
    }
    await nextPoll();
  }
  const heldAfter = (await getJson("/api/diagnostics")).leaks.staticstring.bytes;
  const leakedMb = (heldAfter - heldBefore) / MB;
  if (!(leakedMb > 0)) throw new Error(`the leak grew by ${leakedMb} MB after ${LEAK_REQUESTS} requests`);
  const wanted = before + leakedMb / 2;
  await page
    .waitForFunction(
      (w) => Number(document.getElementById("stat-allocated").textContent.replace(/,/g, "")) >= w,
      wanted,
    )
    .catch(() => {});
  const after = await allocatedMb();
  if (after >= wanted) {
    ok(`Allocated rose ${before} → ${after} MB after ${LEAK_REQUESTS} leak requests (leak holds +${leakedMb.toFixed(1)} MB)`);
  } else {
    problems.push(`Allocated shows ${after} MB, wanted ≥ ${wanted.toFixed(1)} (was ${before}, leak +${leakedMb.toFixed(1)} MB)`);
  }

  // 4. Reset empties the leak.
  const [resetResponse] = await Promise.all([
    page.waitForResponse((r) => r.url() === `${origin}/api/reset` && r.request().method() === "POST"),
    page.click("#reset"),
  ]);
  const dropped = (await resetResponse.json()).dropped_leak_bytes;
  const droppedText = `dropped ${mb(dropped)} MB the leaks held`;
  await page
    .waitForFunction((text) => document.getElementById("action-result").textContent.includes(text), droppedText)
    .catch(() => problems.push(`Reset dropped ${dropped} bytes but the page does not say "${droppedText}"`));
  await page.waitForFunction(
    () => document.querySelector('#held tr[data-holder="staticstring"] td:nth-child(2)')?.textContent === "0",
  );
  ok(`Reset shows "${droppedText}"; the next poll shows the static list empty`);
  await nextPoll();

  // 5. Collect shows RSS before → after and marks a reclaim event.
  const [collectResponse] = await Promise.all([
    page.waitForResponse((r) => r.url() === `${origin}/api/collect` && r.request().method() === "POST"),
    page.click("#collect"),
  ]);
  const outcome = await collectResponse.json();
  const expected = `RSS ${mb(outcome.rss_before_bytes)} MB → ${mb(outcome.rss_after_bytes)} MB`;
  await page
    .waitForFunction((text) => document.getElementById("action-result").textContent.includes(text), expected)
    .catch(() => {});
  const shown = (await page.textContent("#action-result")) ?? "";
  if (shown.includes(expected)) {
    ok(`Collect shows "${expected}" (${outcome.action}, released ${mb(outcome.rss_released_bytes)} MB)`);
  } else {
    problems.push(`Collect answered ${JSON.stringify(outcome)} but the page shows "${shown}", not "${expected}"`);
  }
  await page
    .waitForFunction(() => Number(document.getElementById("legend").dataset.collects) >= 1)
    .then(() => ok("the next poll marks the collect as a reclaim event"))
    .catch(() => problems.push("no reclaim event marked after Collect"));

  // 6. Endpoint links.
  const endpoints = await getJson("/api/endpoints");
  const links = await page.$$eval("#endpoints a", (anchors) =>
    anchors.map((a) => ({ href: a.getAttribute("href"), target: a.target, text: a.textContent })),
  );
  const wantedLinks = endpoints.map((e) => e.example);
  const shownLinks = links.map((l) => l.href);
  if (JSON.stringify(shownLinks) !== JSON.stringify(wantedLinks)) {
    problems.push(`endpoint links ${JSON.stringify(shownLinks)}, wanted ${JSON.stringify(wantedLinks)}`);
  }
  for (const link of links.filter((l) => l.target !== "_blank")) {
    problems.push(`link ${link.href} does not open in a new tab`);
  }
  const loh = links.find((l) => l.href.startsWith("/api/loh/"));
  if (!loh) {
    problems.push("no /api/loh link listed");
  } else {
    const [tab, tabResponse] = await Promise.all([
      context.waitForEvent("page"),
      context.waitForEvent("response", (r) => r.url() === origin + loh.href),
      page.click(`#endpoints a[href="${loh.href}"]`),
    ]);
    if ((await tab.opener()) !== page) problems.push(`${loh.href} did not open from the dashboard`);
    if (tabResponse.status() !== 200) problems.push(`${loh.href} answered ${tabResponse.status()} in its tab`);
    await tab.close();
    ok(`${links.length} endpoint links match /api/endpoints, open in new tabs; ${loh.href} answered ${tabResponse.status()}`);
  }

  // 7. The screenshot, after one more poll so the chart shows the collect's marker.
  await nextPoll();
  mkdirSync(dirname(screenshotPath), { recursive: true });
  await page.screenshot({ path: screenshotPath, fullPage: true });
  ok(`screenshot written to ${screenshotPath}`);

  if (consoleErrors.length) problems.push(...consoleErrors.map((e) => `console error: ${e}`));
  else ok("no console errors");
} catch (error) {
  problems.push(`stopped: ${error.message}`);
} finally {
  clearTimeout(watchdog);
  await context.close();
  rmSync(userDataDir, { recursive: true, force: true });
}

if (problems.length) {
  for (const problem of problems) console.log(`fail: ${problem}`);
  process.exit(1);
}
ok("no request left the server's origin");
