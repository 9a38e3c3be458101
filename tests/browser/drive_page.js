// Drives a dashboard page in Debian's headless chromium and prints, as one
// JSON document on stdout, what the page shows. The C++ test (browser_test.cpp)
// decides what is right.
//
//   node drive_page.js look     BASE_URL SCREENSHOT
//   node drive_page.js ours     BASE_URL SCREENSHOT
//   node drive_page.js stale    BASE_URL SCREENSHOT GO_FILE
//   node drive_page.js token    BASE_URL SCREENSHOT TOKEN
//   node drive_page.js upstream BASE_URL SCREENSHOT
//
// "upstream" loads qtopology's own page from its npm package, served on our
// server's origin so that its relative API calls reach our server unchanged.
// Both packages come from $QTOPOLOGY_BROWSER_ENV/node_modules, installed by
// the browser_env_install test in the build tree.
"use strict";

const fs = require("fs");
const path = require("path");

const modulesDir = path.join(process.env.QTOPOLOGY_BROWSER_ENV, "node_modules");
const { chromium } = require(path.join(modulesDir, "playwright-core"));

const [mode, baseUrl, screenshot, goFile] = process.argv.slice(2);
const origin = new URL(baseUrl).origin;
// BASE_URL may carry the dashboard's token in its fragment, as it prints it.
const fragment = new URL(baseUrl).hash;
const pageUrl = (pathname) => origin + pathname + fragment;

async function launch() {
  const browser = await chromium.launch({
    executablePath: "/usr/bin/chromium",
    headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
      "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
  const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
  const report = { alerts: [], dialogs: [], foreignRequests: [], consoleErrors: [] };
  page.on("console", (m) => { if (m.type() === "error") report.consoleErrors.push(m.text()); });
  page.on("pageerror", (e) => report.consoleErrors.push(String(e)));
  return { browser, page, report };
}

// Nothing may come from elsewhere: the page must work offline.
async function offline(page, report, serveUpstream) {
  const guiDir = path.join(modulesDir, "qtopology", "resources", "gui");
  const upstreamFiles = serveUpstream ? new Set(fs.readdirSync(guiDir)) : new Set();
  await page.route("**/*", (route) => {
    const url = new URL(route.request().url());
    if (url.origin !== origin) {
      report.foreignRequests.push(url.href);
      return route.abort();
    }
    const file = url.pathname.slice(1);
    if (upstreamFiles.has(file)) {
      return route.fulfill({ path: path.join(guiDir, file) });
    }
    return route.continue();
  });
}

const visibleText = (nodes) => nodes.filter((n) => n.offsetParent !== null)
  .map((n) => n.textContent.trim());

async function readOurPage(page) {
  return page.evaluate(() => {
    const rows = (table) => [...document.querySelectorAll("#" + table + " tbody tr")]
      .filter((r) => r.cells.length > 1)
      .map((r) => ({
        cells: [...r.cells].slice(0, -1).map((c) => c.textContent.trim()),
        problem: r.classList.contains("problem"),
        buttons: [...r.querySelectorAll("button")].map((b) => b.textContent.trim()),
      }));
    return {
      workers: rows("workers-table"),
      topologies: rows("topologies-table"),
      queue: rows("queue-table"),
      settings: rows("settings-table"),
      storage: [...document.querySelectorAll("#storage-table tr")]
        .map((r) => [r.cells[0].textContent, r.cells[1].textContent]),
      errorBadges: document.querySelectorAll("#topologies-table .badge-error").length,
      deadBadges: document.querySelectorAll("#workers-table .badge-dead").length,
      leaderBadges: document.querySelectorAll("#workers-table .badge-leader").length,
      images: document.querySelectorAll("img").length,
      // Shown means laid out, whatever the attributes say.
      leaderBannerShown: document.getElementById("leader-banner").offsetParent !== null,
      staleBannerShown: document.getElementById("stale-banner").offsetParent !== null,
      enabledWriteButtons: [...document.querySelectorAll("button.write")]
        .filter((b) => !b.disabled).length,
      writeButtons: document.querySelectorAll("button.write").length,
      writesRefusedShown: document.getElementById("writes-refused").offsetParent !== null,
      tokenInputShown: document.getElementById("token-input").offsetParent !== null,
      staleBanner: document.getElementById("stale-banner").textContent,
      refreshed: document.getElementById("refreshed").textContent,
    };
  });
}

function rowOf(page, table, key, value) {
  return page.locator("#" + table + " tbody tr").filter({
    has: page.locator("td.name", { hasText: value }),
  }).first();
}

// Loads our page and reports what it shows, touching nothing.
async function look() {
  const { browser, page, report } = await launch();
  await offline(page, report, false);
  await page.goto(pageUrl("/"));
  await page.waitForSelector("#topologies-table tbody tr td.name");
  await page.waitForSelector("#storage-table tr");
  report.page = await readOurPage(page);
  await page.screenshot({ path: screenshot, fullPage: true });
  await browser.close();
  return report;
}

// Loads our page without its token, as an operator who chose the token
// opens it; reports what it shows, types the token in the field, and
// reports again once the data is there.
async function token() {
  const { browser, page, report } = await launch();
  await offline(page, report, false);
  await page.goto(pageUrl("/"));
  await page.waitForSelector("#token-bar", { state: "visible" });
  await page.waitForSelector("#stale-banner", { state: "visible" });
  report.before = await readOurPage(page);
  await page.fill("#token-input", goFile);
  await page.dispatchEvent("#token-input", "change");
  await page.waitForSelector("#topologies-table tbody tr td.name");
  await page.waitForSelector("#storage-table tr");
  report.page = await readOurPage(page);
  await page.screenshot({ path: screenshot, fullPage: true });
  await browser.close();
  return report;
}

async function ours() {
  const { browser, page, report } = await launch();
  await offline(page, report, false);
  // Confirmations: the first one is declined, the rest accepted.
  let declineNext = true;
  page.on("dialog", async (d) => {
    report.dialogs.push({ type: d.type(), message: d.message() });
    if (d.type() === "alert") report.alerts.push(d.message());
    if (d.type() === "confirm" && declineNext) {
      declineNext = false;
      return d.dismiss();
    }
    return d.accept();
  });
  await page.goto(pageUrl("/"));
  await page.waitForSelector("#topologies-table tbody tr td.name");
  await page.waitForSelector("#storage-table tr");
  report.initial = await readOurPage(page);
  report.addressAfterLoad = page.url();
  await page.screenshot({ path: screenshot, fullPage: true });

  // A topology's details: configuration and history, the hostile one included.
  const hostile = "<img src=x onerror=alert(1)>";
  await rowOf(page, "topologies-table", "uuid", hostile).getByRole("button", { name: "Details" })
    .click();
  await page.waitForSelector("#details-section:not([hidden]) #details-config");
  report.topologyDetails = await page.evaluate(() => ({
    title: document.getElementById("details-title").textContent,
    config: JSON.parse(document.getElementById("details-config").textContent),
    historyRows: document.querySelectorAll("#details-body tbody tr").length,
  }));
  await page.screenshot({ path: screenshot.replace(/\.png$/, "-details.png"), fullPage: true });

  // A worker's history.
  await rowOf(page, "workers-table", "name", "worker-gone").getByRole("button", { name: "History" })
    .click();
  await page.waitForFunction(() =>
    document.getElementById("details-title").textContent === "Worker worker-gone");
  report.workerHistory = await page.evaluate(() =>
    [...document.querySelectorAll("#details-body tbody tr")].map((r) => r.cells[1].textContent));

  // Kill, declined at the confirmation, then confirmed.
  const kill = () => rowOf(page, "topologies-table", "uuid", "orders-pipeline")
    .getByRole("button", { name: "Kill" }).click();
  await kill();
  await page.waitForTimeout(300);
  report.afterDeclined = (await readOurPage(page)).topologies;
  await kill();
  await page.waitForSelector("#action-banner:not([hidden])");
  report.actionBanner = await page.locator("#action-banner").textContent();
  await page.waitForFunction(() => [...document.querySelectorAll("#topologies-table tbody tr")]
    .some((r) => r.cells[0].textContent === "orders-pipeline" && r.cells[2].textContent === "no"));
  report.afterKill = (await readOurPage(page)).topologies;

  // Register through the dialog: broken JSON is refused in place, then a
  // good configuration is registered.
  await page.click("#register-button");
  await page.fill("#register-uuid", "from-the-page");
  await page.fill("#register-config", "{\"general\": {\"weight\": 5},}");
  await page.click("#register-submit");
  await page.waitForSelector("#register-error:not([hidden])");
  report.registerError = await page.locator("#register-error").textContent();
  await page.fill("#register-config", "{\"general\": {\"weight\": 5, \"command\": [\"/bin/true\"]}}");
  await page.click("#register-submit");
  await page.waitForSelector("#topologies-table td.name >> text=from-the-page");
  report.final = await readOurPage(page);
  await browser.close();
  return report;
}

async function stale() {
  const { browser, page, report } = await launch();
  await offline(page, report, false);
  await page.goto(pageUrl("/"));
  await page.waitForSelector("#topologies-table tbody tr td.name");
  report.before = await readOurPage(page);
  process.stderr.write("loaded\n");
  while (!fs.existsSync(goFile)) await new Promise((r) => setTimeout(r, 100));
  await page.click("#refresh-button");
  await page.waitForSelector("#stale-banner:not([hidden])", { timeout: 60000 });
  report.after = await readOurPage(page);
  report.staleClass = await page.evaluate(() =>
    document.getElementById("content").classList.contains("stale"));
  await page.screenshot({ path: screenshot, fullPage: true });
  await browser.close();
  return report;
}

async function upstream() {
  const { browser, page, report } = await launch();
  await offline(page, report, true);
  page.on("dialog", (d) => { report.alerts.push(d.message()); return d.dismiss(); });
  await page.goto(origin + "/qtopology_dashboard.html");
  // Knockout fills the tickets once topology-status and worker-status answered.
  await page.waitForFunction(() =>
    document.querySelectorAll(".cell-4 .ticket label").length > 0 &&
    document.querySelectorAll(".cell-5 .ticket label").length > 0 &&
    document.querySelectorAll(".cell-3 dd").length > 0);
  report.page = await page.evaluate((visibleTextSource) => {
    const visibleText = eval(visibleTextSource);
    const tickets = (cell) => [...document.querySelectorAll(cell + " .ticket")].map((t) => ({
      label: t.querySelector("label").textContent,
      badges: visibleText([...t.querySelectorAll(".badge")]),
      text: t.textContent.replace(/\s+/g, " ").trim(),
    }));
    return {
      workers: tickets(".cell-4"),
      topologies: tickets(".cell-5"),
      storage: [...document.querySelectorAll(".cell-3 dt")].map((dt) =>
        [dt.textContent, dt.nextElementSibling ? dt.nextElementSibling.textContent : null]),
      errorShown: document.querySelector("[data-bind='visible: showError']") !== null &&
        document.querySelector("[data-bind='visible: showError']").offsetParent !== null,
      images: [...document.querySelectorAll("img")].map((i) => i.getAttribute("src")),
    };
  }, visibleText.toString());
  await page.screenshot({ path: screenshot, fullPage: true });
  await browser.close();
  return report;
}

const modes = { look, ours, stale, token, upstream };
modes[mode]().then(
  (report) => { process.stdout.write(JSON.stringify(report) + "\n"); },
  (e) => { process.stderr.write(String(e.stack || e) + "\n"); process.exit(1); });
