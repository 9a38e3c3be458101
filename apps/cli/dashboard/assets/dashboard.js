// The dashboard page. Every value from the database reaches the page through
// textContent or a DOM property, never as HTML: a topology called
// "<img src=x onerror=alert(1)>" shows as those characters.
"use strict";

(function () {
  const REFRESH_MS = 15000; // as qtopology's own page
  const TOKEN_HEADER = "X-QTopology-Token";
  const TOKEN_KEY = "qtopology-dashboard-token";

  // The dashboard prints its URL with the token in the fragment, which the
  // browser never sends to a server. It is kept for this tab only and taken
  // off the address bar, so it is not bookmarked or shared with the URL.
  (function takeTokenFromUrl() {
    const match = /(?:^#|&)token=([^&]+)/.exec(window.location.hash);
    if (!match) return;
    try {
      window.sessionStorage.setItem(TOKEN_KEY, decodeURIComponent(match[1]));
    } catch (e) {
      // Storage refused (private mode): the token field remains.
    }
    window.history.replaceState(null, "", window.location.pathname + window.location.search);
  })();

  function storedToken() {
    try {
      return window.sessionStorage.getItem(TOKEN_KEY) || "";
    } catch (e) {
      return "";
    }
  }

  // What a request sends: the token typed in, else the one from the URL.
  function currentToken() {
    return document.getElementById("token-input").value || storedToken();
  }

  function tokenHeaders() {
    const token = currentToken();
    return token ? { [TOKEN_HEADER]: token } : {};
  }

  const state = {
    writeMode: "open", // "open", "token" or "refused", from /health
    lastGood: null, // when data last arrived
    topologies: [],
    workers: [],
    details: null, // () => Promise redrawing the open details panel
  };

  const byId = (id) => document.getElementById(id);

  // el("td", {className: "x"}, "text", childNode, ...)
  function el(tag, props, ...children) {
    const node = document.createElement(tag);
    Object.assign(node, props || {});
    for (const child of children) {
      if (child === null || child === undefined) continue;
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  }

  function badge(text, kind) {
    return el("span", { className: "badge badge-" + kind }, text);
  }

  function pad(n) {
    return String(n).padStart(2, "0");
  }

  function localTime(value) {
    const d = new Date(value);
    if (isNaN(d.getTime())) return "-";
    return d.getFullYear() + "-" + pad(d.getMonth() + 1) + "-" + pad(d.getDate()) + " " +
      pad(d.getHours()) + ":" + pad(d.getMinutes()) + ":" + pad(d.getSeconds());
  }

  function age(ms) {
    const s = Math.max(0, Math.round((Date.now() - ms) / 1000));
    if (s < 120) return s + " s ago";
    if (s < 7200) return Math.round(s / 60) + " min ago";
    return Math.round(s / 3600) + " h ago";
  }

  class ApiError extends Error {
    constructor(status, message) {
      super(message);
      this.status = status;
    }
  }

  async function readJson(response) {
    try {
      return await response.json();
    } catch (e) {
      return null;
    }
  }

  // POST /<name> with a JSON body, as qtopology's API wants it.
  async function api(name, body) {
    const headers = Object.assign({ "Content-Type": "application/json" }, tokenHeaders());
    let response;
    try {
      response = await fetch(name, {
        method: "POST", headers, body: JSON.stringify(body || {}), cache: "no-store",
      });
    } catch (e) {
      throw new ApiError(0, "the dashboard server cannot be reached");
    }
    const data = await readJson(response);
    if (!response.ok) {
      throw new ApiError(response.status, (data && data.error) || response.statusText);
    }
    return data;
  }

  async function health() {
    try {
      const response = await fetch("health", { cache: "no-store", headers: tokenHeaders() });
      return await readJson(response);
    } catch (e) {
      return null;
    }
  }

  // --- banners ----------------------------------------------------------------

  function showBanner(id, text, kind) {
    const banner = byId(id);
    banner.textContent = text;
    banner.className = "banner banner-" + kind;
    banner.hidden = false;
  }

  let actionBannerTimer = null;
  function announce(text, kind) {
    showBanner("action-banner", text, kind);
    clearTimeout(actionBannerTimer);
    actionBannerTimer = setTimeout(() => { byId("action-banner").hidden = true; }, 8000);
  }

  // --- actions ------------------------------------------------------------------

  async function act(route, body, done, confirmation) {
    if (confirmation && !window.confirm(confirmation)) return;
    try {
      await api(route, body);
      announce(done, "ok");
    } catch (e) {
      announce(route + " failed: " + e.message, "error");
      if ((e.status === 401 || e.status === 403) && state.writeMode === "token") {
        byId("token-bar").hidden = false;
        byId("token-input").focus();
      }
    }
    await refresh();
  }

  function actionButton(label, handler, destructive) {
    const button = el("button", {
      type: "button",
      className: "small write" + (destructive ? " danger" : ""),
      disabled: state.writeMode === "refused",
      title: state.writeMode === "refused" ? "this server refuses write actions" : "",
    }, label);
    button.addEventListener("click", handler);
    return button;
  }

  function viewButton(label, handler) {
    const button = el("button", { type: "button", className: "small" }, label);
    button.addEventListener("click", handler);
    return button;
  }

  // --- workers ------------------------------------------------------------------

  // The storage keeps the worker a topology last ran on: it runs there only
  // while waiting or running.
  function runsOn(t, name) {
    return t.worker === name && (t.status === "waiting" || t.status === "running");
  }

  function workerCell(t) {
    if (!t.worker) return "-";
    return runsOn(t, t.worker) ? t.worker : el("span", { className: "muted" }, "last on " + t.worker);
  }

  function workerRow(w) {
    const topologies = state.topologies.filter((t) => runsOn(t, w.name)).map((t) => t.uuid);
    const isLeader = w.lstatus === "leader";
    const row = el("tr", { className: w.status === "dead" ? "problem" : "" },
      el("td", { className: "name" }, w.name),
      el("td", {}, badge(w.status, w.status)),
      el("td", {}, isLeader ? badge("leader", "leader") : w.lstatus),
      el("td", { title: localTime(w.last_ping) }, age(w.last_ping)),
      el("td", {}, w.pid === null || w.pid === undefined ? "-" : w.pid),
      el("td", { className: "list" }, topologies.length ? topologies.join(", ") : "-"),
      el("td", { className: "actions" },
        viewButton("History", () => showWorker(w.name)),
        w.status === "disabled"
          ? actionButton("Enable", () => act("enable-worker", { name: w.name },
            "asked worker " + w.name + " to enable itself"))
          : actionButton("Disable", () => act("disable-worker", { name: w.name },
            "asked worker " + w.name + " to disable itself",
            "Disable worker " + w.name + "? It stops taking topologies.")),
        isLeader ? actionButton("Rebalance", () => act("rebalance-leader", { name: w.name },
          "asked leader " + w.name + " to rebalance")) : null,
        actionButton("Shut down", () => act("shut-down-worker", { name: w.name },
          "sent shutdown to worker " + w.name,
          "Shut down worker " + w.name + "? Its topologies stop.") , true),
        w.status === "unloaded" ? actionButton("Delete", () => act("delete-worker",
          { name: w.name }, "deleted worker " + w.name,
          "Delete worker " + w.name + " from the storage?"), true) : null));
    row.dataset.name = w.name;
    return row;
  }

  // The rows of a table's body, or one row saying there are none.
  function fillTable(tableId, rows, emptyText) {
    const body = byId(tableId).querySelector("tbody");
    const columns = byId(tableId).querySelectorAll("thead th").length;
    body.replaceChildren(...(rows.length ? rows
      : [el("tr", {}, el("td", { colSpan: columns, className: "muted" }, emptyText))]));
  }

  function renderWorkers(workers) {
    fillTable("workers-table", workers.map(workerRow), "no workers");
    const alive = workers.filter((w) => w.status === "alive").length;
    const dead = workers.filter((w) => w.status === "dead").length;
    byId("workers-summary").textContent =
      alive + " alive of " + workers.length + (dead ? ", " + dead + " dead" : "");
    const leader = workers.some((w) => w.lstatus === "leader" && w.status === "alive");
    byId("leader-banner").hidden = leader;
  }

  // --- topologies -----------------------------------------------------------------

  // A row another writer left that fails validation: the leader does not
  // place it, and the calls that name it would be refused. The server sends
  // its texts escaped; it is shown, to be fixed or deleted (docs/dashboard.md).
  function invalidTopologyRow(t) {
    const row = el("tr", { className: "problem" },
      el("td", { className: "name" }, t.uuid),
      el("td", {}, badge("invalid", "error")),
      el("td", {}, t.enabled ? "yes" : "no"),
      el("td", {}, t.worker || "-"),
      el("td", {}, t.weight),
      el("td", { className: "list" }, t.worker_affinity.length ? t.worker_affinity.join(", ") : "-"),
      el("td", {}, t.pid === null || t.pid === undefined ? "-" : t.pid),
      el("td", { className: "error-text" }, "invalid row: " + t.invalid),
      el("td", { className: "actions" }, "-"));
    row.dataset.uuid = t.uuid;
    return row;
  }

  function topologyRow(t) {
    if (t.invalid) return invalidTopologyRow(t);
    const row = el("tr", { className: t.status === "error" ? "problem" : "" },
      el("td", { className: "name" }, t.uuid),
      el("td", {}, badge(t.status, t.status)),
      el("td", {}, t.enabled ? "yes" : "no"),
      el("td", {}, workerCell(t)),
      el("td", {}, t.weight),
      el("td", { className: "list" }, t.worker_affinity.length ? t.worker_affinity.join(", ") : "-"),
      el("td", {}, t.pid === null || t.pid === undefined ? "-" : t.pid),
      el("td", { className: "error-text" }, t.error || ""),
      el("td", { className: "actions" },
        viewButton("Details", () => showTopology(t.uuid)),
        t.enabled
          ? actionButton("Disable", () => act("disable-topology", { uuid: t.uuid },
            "disabled topology " + t.uuid,
            "Disable topology " + t.uuid + "? The leader will stop assigning it."), true)
          : actionButton("Enable", () => act("enable-topology", { uuid: t.uuid },
            "enabled topology " + t.uuid)),
        actionButton("Stop", () => act("stop-topology", { uuid: t.uuid },
          "disabled topology " + t.uuid + " and asked its worker to stop it",
          "Stop topology " + t.uuid + "?"), true),
        actionButton("Kill", () => act("kill-topology", { uuid: t.uuid },
          "disabled topology " + t.uuid + " and asked its worker to kill it",
          "Kill topology " + t.uuid + "? Its worker ends it at once, without a clean shutdown."),
          true),
        t.status === "error" ? actionButton("Clear error", () => act("clear-topology-error",
          { uuid: t.uuid }, "cleared the error of topology " + t.uuid)) : null));
    row.dataset.uuid = t.uuid;
    return row;
  }

  function renderTopologies(topologies) {
    fillTable("topologies-table", topologies.map(topologyRow), "no topologies");
    const valid = topologies.filter((t) => !t.invalid);
    const running = valid.filter((t) => t.status === "running").length;
    const errors = valid.filter((t) => t.status === "error").length;
    const invalid = topologies.length - valid.length;
    byId("topologies-summary").textContent = running + " running of " + topologies.length +
      (errors ? ", " + errors + " in error" : "") + (invalid ? ", " + invalid + " invalid" : "");
  }

  // --- queue and storage --------------------------------------------------------------

  function renderQueue(queue) {
    fillTable("queue-table", queue.data.map((m) => el("tr", {},
      el("td", {}, m.worker), el("td", {}, m.cmd),
      el("td", { className: "code" }, JSON.stringify(m.content)),
      el("td", {}, localTime(m.ts)), el("td", {}, localTime(m.valid_until)))), "empty");
    byId("queue-summary").textContent = queue.data.length + " waiting";
  }

  function renderStorage(info) {
    byId("storage-table").querySelector("tbody").replaceChildren(
      ...info.storage.concat(info.custom || []).map((p) =>
        el("tr", {}, el("th", {}, p.key), el("td", {}, p.value))));
  }

  // --- cluster settings -----------------------------------------------------------------

  function settingRow(setting) {
    const ranged = setting.min !== undefined;
    const row = el("tr", {},
      el("td", { className: "name" }, setting.name),
      el("td", {}, setting.value),
      el("td", {}, setting.stored === null ? "-" : setting.stored),
      el("td", {}, ranged ? setting.default : "-"),
      el("td", {}, ranged ? setting.min + "-" + setting.max : "-"),
      el("td", {}, setting.meaning || ""),
      el("td", { className: "actions" },
        actionButton("Set", () => {
          const text = window.prompt("New value of " + setting.name + " (whole seconds" +
            (ranged ? ", " + setting.min + " to " + setting.max : "") + ")", setting.value);
          if (text === null) return;
          if (!/^[0-9]+$/.test(text.trim())) {
            announce(setting.name + ": not a whole number of seconds", "error");
            return;
          }
          const value = Number(text.trim());
          act("set-setting", { name: setting.name, value }, "set " + setting.name + " to " + value);
        })));
    row.dataset.name = setting.name;
    return row;
  }

  function renderSettings(settings) {
    fillTable("settings-table", settings.map(settingRow), "none");
  }

  // --- details ------------------------------------------------------------------------

  function table(headers, rows) {
    return el("table", {},
      el("thead", {}, el("tr", {}, ...headers.map((h) => el("th", {}, h)))),
      el("tbody", {}, ...(rows.length ? rows
        : [el("tr", {}, el("td", { colSpan: headers.length, className: "muted" }, "none"))])));
  }

  function openDetails(title, load) {
    state.details = async () => {
      const content = await load();
      byId("details-title").textContent = title;
      byId("details-body").replaceChildren(...content);
      byId("details-section").hidden = false;
    };
    return state.details().then(
      () => byId("details-section").scrollIntoView({ block: "nearest" }),
      (e) => announce(title + ": " + e.message, "error"));
  }

  function showTopology(uuid) {
    return openDetails("Topology " + uuid, async () => {
      const [info, history] = await Promise.all([
        api("topology-info", { uuid }), api("topology-history", { uuid })]);
      return [
        el("div", { className: "columns" },
          el("div", {}, el("h3", {}, "Configuration"),
            el("pre", { className: "code", id: "details-config" },
              JSON.stringify(info.config, null, 2))),
          el("div", {}, el("h3", {}, "History (newest first)"),
            table(["Time", "Status", "Enabled", "Worker", "PID", "Error"],
              history.map((h) => el("tr", { className: h.status === "error" ? "problem" : "" },
                el("td", {}, localTime(h.ts)), el("td", {}, badge(h.status, h.status)),
                el("td", {}, h.enabled ? "yes" : "no"), el("td", {}, workerCell(h)),
                el("td", {}, h.pid === null ? "-" : h.pid),
                el("td", { className: "error-text" }, h.error || "")))))),
      ];
    });
  }

  function showWorker(name) {
    return openDetails("Worker " + name, async () => {
      const history = await api("worker-history", { name });
      return [el("h3", {}, "History (newest first)"),
        table(["Time", "Status", "Leadership", "PID"], history.map((h) => el("tr", {},
          el("td", {}, localTime(h.ts)), el("td", {}, badge(h.status, h.status)),
          el("td", {}, h.lstatus), el("td", {}, h.pid === null ? "-" : h.pid))))];
    });
  }

  // --- refresh ------------------------------------------------------------------------

  function applyWriteMode(mode) {
    state.writeMode = mode;
    // A token from the URL makes the field unnecessary, until it is refused.
    if (mode !== "token") byId("token-bar").hidden = true;
    else if (!storedToken()) byId("token-bar").hidden = false;
    byId("writes-refused").hidden = mode !== "refused";
    byId("register-button").disabled = mode === "refused";
  }

  let refreshing = null;
  function refresh() {
    // One refresh at a time: a click during the periodic one joins it.
    if (!refreshing) refreshing = load().finally(() => { refreshing = null; });
    return refreshing;
  }

  async function load() {
    const status = await health();
    if (status && status.writes) applyWriteMode(status.writes);
    // Refused (401): reads need a token this page does not have.
    else if (status && status.error) byId("token-bar").hidden = false;
    try {
      const [topologies, workers, queue, storage, settings] = await Promise.all([
        api("topology-status"), api("worker-status"), api("msg-queue-content"),
        api("storage-info"), api("settings")]);
      topologies.sort((a, b) => a.uuid.localeCompare(b.uuid));
      workers.sort((a, b) => a.name.localeCompare(b.name));
      state.topologies = topologies;
      state.workers = workers;
      renderTopologies(topologies);
      renderWorkers(workers);
      renderQueue(queue);
      renderStorage(storage);
      renderSettings(settings);
      if (state.details && !byId("details-section").hidden) await state.details().catch(() => {});
      state.lastGood = new Date();
      byId("stale-banner").hidden = true;
      byId("content").classList.remove("stale");
      byId("refreshed").textContent = "updated " + localTime(state.lastGood);
    } catch (e) {
      const since = state.lastGood ? "showing data from " + localTime(state.lastGood)
        : "no data yet";
      const why = e.status === 503 ? "the database is unreachable"
        : e.status === 401 || e.status === 429 ? "the dashboard wants its token"
          : "the data cannot be read";
      if (e.status === 401) byId("token-bar").hidden = false;
      showBanner("stale-banner", "Stale: " + why + " (" + e.message + "); " + since +
        ". Retrying every " + REFRESH_MS / 1000 + " s.", "error");
      byId("content").classList.add("stale");
      byId("refreshed").textContent = "refresh failed at " + localTime(new Date());
    }
  }

  // --- register dialog -------------------------------------------------------------------

  function setUpRegisterDialog() {
    const dialog = byId("register-dialog");
    byId("register-button").addEventListener("click", () => {
      byId("register-error").hidden = true;
      dialog.showModal();
    });
    byId("register-cancel").addEventListener("click", () => dialog.close());
    byId("register-form").addEventListener("submit", async (event) => {
      event.preventDefault();
      const uuid = byId("register-uuid").value.trim();
      let config;
      try {
        config = JSON.parse(byId("register-config").value);
      } catch (e) {
        byId("register-error").textContent = "The configuration is not valid JSON: " + e.message;
        byId("register-error").hidden = false;
        return;
      }
      try {
        const format = byId("register-format").value;
        await api("register-topology", { uuid, config, format });
      } catch (e) {
        byId("register-error").textContent = e.message;
        byId("register-error").hidden = false;
        return;
      }
      dialog.close();
      announce("registered topology " + uuid + " (a new topology starts disabled)", "ok");
      await refresh();
    });
  }

  byId("refresh-button").addEventListener("click", () => refresh());
  // A token typed in is tried at once.
  byId("token-input").addEventListener("change", () => refresh());
  byId("details-close").addEventListener("click", () => {
    byId("details-section").hidden = true;
    state.details = null;
  });
  setUpRegisterDialog();
  refresh();
  setInterval(refresh, REFRESH_MS);
})();
