// Drives Debian's headless chromium (through playwright-core) against a running
// `membench serve` and checks its live dashboard the way a person would use it:
//
//   node tests/browser/dashboard.mjs <base-url> <screenshot-path> [--lens-off]
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
// 7. the modelled .NET GC panel is there, labelled as the server labels it ("modelled .NET
//    GC (server)") and as a model; after some /api/loh/84976 requests (85,000-byte arrays:
//    the .NET large-object heap) it shows modelled gen2 collections, the same number as
//    /api/diagnostics, and draws them in its own chart, not on the measured one;
// 1b. with --min-history=N, the chart is backfilled from
//    GET /api/history with at least N points right after load;
// 8. a full-page screenshot is written to <screenshot-path>.
//
// With --lens-off (a server started with --gc-model none) only the page's load and the
// modelled panel are checked: it must say the lens is off and draw nothing modelled.
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

const [base, screenshotPath, ...flags] = process.argv.slice(2);
const lensOff = flags.includes("--lens-off");
/** With --min-history=N (a server that ran under load before the page opened), the page
 *  must draw at least N points backfilled from GET /api/history before its first poll. */
const minHistory = Number(
  flags.find((flag) => flag.startsWith("--min-history="))?.split("=")[1] ?? 0,
);
/** /api/loh/84976 requests for the modelled lens: each is an 85,000-byte array in .NET,
 *  so a few hundred use up the modelled large-object heap's budget (a gen2 collection). */
const LOH_REQUESTS = 1200;
const LOH_BATCHES = 3;
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
/** A count, exactly as the page formats it. */
const integer = new Intl.NumberFormat("en-US", { maximumFractionDigits: 0 });

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
  // 1b. The backfill: the points the server kept before the page opened, drawn at once.
  await page.waitForFunction(() => document.body.dataset.backfilled !== undefined);
  const backfill = await page.evaluate(() => ({
    backfilled: Number(document.body.dataset.backfilled),
    points: Number(document.body.dataset.samples ?? 0),
    window: [...document.querySelectorAll("#legend li")]
      .find((li) => li.textContent.startsWith("this window"))
      ?.querySelector(".legend-value")?.textContent,
  }));
  if (backfill.backfilled < minHistory || backfill.points < backfill.backfilled) {
    problems.push(
      `right after load the page drew ${backfill.points} points from ${backfill.backfilled} ` +
        `history samples; the server ran long enough for ${minHistory}`,
    );
  } else {
    ok(`backfilled ${backfill.backfilled} samples from /api/history on load (${backfill.points} points, window ${backfill.window})`);
  }
  await page.waitForFunction(() => Number(document.body.dataset.samples ?? 0) >= 2);
  const diagnostics = await getJson("/api/diagnostics");
  const allocator = await page.textContent("#allocator");
  if (!allocator.startsWith(diagnostics.allocator)) {
    problems.push(`the page names allocator "${allocator}", the server "${diagnostics.allocator}"`);
  }
  const status = await page.getAttribute("#status", "class");
  if (!status.includes("status-live")) problems.push(`the status line is "${status}", not live`);
  ok(`page loaded and polling; allocator ${allocator}`);

  if (lensOff) {
    await checkLensOff(page, diagnostics);
  } else {
    await checkLeakAndButtons(page, diagnostics);
    await checkModelledLens(page);
  }

  // 8. The screenshot, after one more poll so the chart shows the latest markers.
  await nextPoll();
  mkdirSync(dirname(screenshotPath), { recursive: true });
  await page.screenshot({ path: screenshotPath, fullPage: true });
  ok(`screenshot written to ${screenshotPath}`);

  if (consoleErrors.length) problems.push(...consoleErrors.map((e) => `console error: ${e}`));
  else ok("no console errors");

  async function checkLensOff(page, diagnostics) {
    if (diagnostics.modelled_gc != null) {
      problems.push(`--lens-off, but /api/diagnostics has modelled_gc ${JSON.stringify(diagnostics.modelled_gc)}`);
    }
    const panel = await page.evaluate(() => {
      const off = document.getElementById("modelled-off");
      return {
        lens: document.getElementById("modelled").dataset.lens,
        offShown: !off.hidden && off.getBoundingClientRect().height > 0,
        offText: off.textContent.replace(/\s+/g, " "),
        onShown: !document.getElementById("modelled-on").hidden,
        canvases: document.querySelectorAll("#modelled canvas").length,
      };
    });
    if (panel.lens !== "off") problems.push(`the modelled panel is "${panel.lens}", not "off"`);
    if (!panel.offShown || !panel.offText.includes("--gc-model none")) {
      problems.push(`the page does not say the lens is off: ${JSON.stringify(panel)}`);
    }
    if (panel.onShown || panel.canvases > 0) {
      problems.push(`the lens is off but something modelled is drawn: ${JSON.stringify(panel)}`);
    }
    ok(`lens off: the page says "${panel.offText.trim().slice(0, 60)}…" and draws nothing modelled`);
  }

  async function checkModelledLens(page) {
    // Requests sent before (the leak, the /api/loh tab) are fed within 250 ms; two polls
    // are at least a second.
    await nextPoll();
    await nextPoll();
    const lensBefore = (await getJson("/api/diagnostics")).modelled_gc;
    if (!lensBefore) throw new Error("/api/diagnostics has no modelled_gc; is the server started with --gc-model none?");
    const title = (await page.textContent(".modelled-title")).replace(/\s+/g, " ").trim();
    if (!title.includes(lensBefore.label) || !title.includes("a model, not a measurement")) {
      problems.push(`the modelled panel's title is "${title}", wanted "${lensBefore.label} — a model, not a measurement"`);
    } else {
      ok(`modelled panel titled "${title}"`);
    }
    const legend = await page.textContent("#modelled-legend");
    for (const wanted of ["modelled gen0", "modelled gen1", "modelled gen2", "modelled managed heap"]) {
      if (!legend.includes(wanted)) problems.push(`the modelled legend lacks "${wanted}": "${legend}"`);
    }
    const measuredLegend = await page.textContent("#legend");
    if (measuredLegend.includes("modelled")) {
      problems.push(`the measured chart's legend mentions something modelled: "${measuredLegend}"`);
    }

    for (let batch = 0; batch < LOH_BATCHES; batch++) {
      for (let i = 0; i < LOH_REQUESTS / LOH_BATCHES; i++) {
        const response = await fetch(`${origin}/api/loh/84976`);
        await response.arrayBuffer();
        if (response.status !== 200) throw new Error(`/api/loh/84976 answered ${response.status}`);
      }
      await nextPoll();
    }
    // The lens feeds the model every 250 ms and the page polls every second: two polls
    // after the last request, the server's count is final and the page has it.
    await nextPoll();
    await nextPoll();
    const lens = (await getJson("/api/diagnostics")).modelled_gc;
    const fed = lens.requests_fed - lensBefore.requests_fed;
    if (fed !== LOH_REQUESTS) problems.push(`the lens was fed ${fed} requests, ${LOH_REQUESTS} were sent`);
    if (!(lens.collections.gen2 > lensBefore.collections.gen2)) {
      throw new Error(`no modelled gen2 after ${LOH_REQUESTS} × /api/loh/84976: ${JSON.stringify(lens.collections)}`);
    }
    const wanted = integer.format(lens.collections.gen2);
    const shown = await page
      .waitForFunction((text) => document.getElementById("modelled-gen2").textContent === text, wanted)
      .then(() => wanted)
      .catch(() => page.textContent("#modelled-gen2"));
    if (shown === wanted) {
      ok(`modelled gen2 collections on the page: ${shown}, as /api/diagnostics says`);
    } else {
      problems.push(`the page shows ${shown} modelled gen2 collections, /api/diagnostics ${wanted}`);
    }
    // Drawn: the window's gen2 count in the legend, and the panel's own chart.
    const drawn = await page.evaluate(() => ({
      windowGen2: Number(document.getElementById("modelled-legend").dataset.gen2),
      canvases: document.querySelectorAll("#modelled-chart canvas").length,
    }));
    const windowGen2 = drawn.windowGen2;
    if (!(windowGen2 > 0) || drawn.canvases !== 1) {
      problems.push(`the modelled chart shows no gen2 markers: ${JSON.stringify(drawn)}`);
    } else {
      ok(`the modelled chart marks ${windowGen2} gen2 collections in its window`);
    }
  }

  async function checkLeakAndButtons(page, diagnostics) {
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
  }
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
