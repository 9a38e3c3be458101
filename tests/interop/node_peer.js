#!/usr/bin/env node
// Interop peer: drives the Node package qtopology-mysql 2.2.1 against a
// database that the C++ library (or its SQL scripts) also uses.
//
//   node node_peer.js --host H --port P --user U --password W --database D --mode MODE
//   node node_peer.js --url mysql://user:pass@host:port/db --mode MODE
//
// create: the Node package builds the schema itself (version 17) on an empty
//         database and writes sample rows through its own API.
// use:    on a database our scripts brought to a newer version: init must apply
//         nothing; then registration, election, messages and topologies must
//         all work from the Node side.
// bad-rows: on such a database, topology rows that fail this library's
//         checks, written through the Node package's own calls.
// Prints one JSON line; exits non-zero on any failure.
"use strict";

const path = require("path");
const { MySqlStorage } = require("qtopology-mysql");
// the qtopology instance the package itself loaded (for its logger)
const qtopology = require(require.resolve("qtopology",
    { paths: [path.dirname(require.resolve("qtopology-mysql"))] }));

function parseArgs(argv) {
    const opts = { host: "127.0.0.1", port: 3306, user: "", password: "", database: "", mode: "" };
    for (let i = 0; i < argv.length; i += 2) {
        const key = (argv[i] || "").replace(/^--/, "");
        const value = argv[i + 1];
        if (value === undefined) {
            throw new Error("missing value for --" + key);
        }
        if (key === "url") {
            const u = new URL(value);
            opts.host = u.hostname;
            opts.port = u.port ? Number(u.port) : 3306;
            opts.user = decodeURIComponent(u.username);
            opts.password = decodeURIComponent(u.password);
            opts.database = decodeURIComponent(u.pathname.replace(/^\//, ""));
        } else if (key in opts || key === "worker") {
            opts[key] = key === "port" ? Number(value) : value;
        } else {
            throw new Error("unknown option --" + key);
        }
    }
    if (!opts.database || !["create", "use", "bad-rows"].includes(opts.mode)) {
        throw new Error("usage: node_peer.js --host H --port P --user U --password W " +
            "--database D --mode create|use|bad-rows");
    }
    return opts;
}

// The package is callback based; wrap each call once.
function call(storage, method, ...args) {
    return new Promise((resolve, reject) => {
        storage[method](...args, (err, data) => (err ? reject(err) : resolve(data)));
    });
}

function check(condition, what) {
    if (!condition) {
        throw new Error("check failed: " + what);
    }
}

async function dbVersion(storage) {
    const rows = await call(storage, "query",
        "select value from qtopology_settings where name = 'db_version'", null);
    return rows.length ? Number(rows[0].value) : -1;
}

async function countRows(storage, table) {
    const rows = await call(storage, "query", `select count(*) as cnt from ${table}`, null);
    return rows[0].cnt;
}

async function createMode(storage) {
    await call(storage, "init");
    const version = await dbVersion(storage);
    check(version === 17, "the Node package built version 17, got " + version);

    await call(storage, "registerWorker", "node-w1");
    await call(storage, "registerWorker", "node-w2");
    await call(storage, "pingWorker", "node-w1");
    await call(storage, "registerTopology", "node-t1",
        { general: { weight: 2, worker_affinity: ["node-w1"] }, spouts: [], bolts: [] });
    await call(storage, "registerTopology", "node-t2",
        { general: {}, spouts: [], bolts: [] });
    await call(storage, "assignTopology", "node-t1", "node-w1");
    await call(storage, "setTopologyStatus", "node-t1", "node-w1", "running", null);
    await call(storage, "setTopologyStatus", "node-t2", null, "error", "sample error");
    // one message left in the queue for the upgrade to carry over
    await call(storage, "sendMessageToWorker", "node-w2", "rebalance", { from: "node" }, 3600 * 1000);
    await call(storage, "announceLeaderCandidacy", "node-w1");
    const leader = await call(storage, "checkLeaderCandidacy", "node-w1");
    check(leader === true, "node-w1 becomes leader of an empty cluster");

    const counts = {};
    for (const t of ["qtopology_worker", "qtopology_topology", "qtopology_message",
        "qtopology_worker_history", "qtopology_topology_history"]) {
        counts[t] = await countRows(storage, t);
    }
    return { mode: "create", db_version: version, leader, counts };
}

async function useMode(storage, opts) {
    const before = await dbVersion(storage);
    check(before >= 18, "database was upgraded by our scripts, version " + before);
    await call(storage, "init");
    const after = await dbVersion(storage);
    check(after === before, `init applied nothing (version ${before} -> ${after})`);

    const me = opts.worker || `node-peer-${process.pid}-${Date.now()}`;
    await call(storage, "registerWorker", me);
    await call(storage, "pingWorker", me);

    // Whether this peer can win depends on who already leads: a fresh, alive
    // leader (ping within the 10 s leader timeout) keeps its seat.
    const workers = await call(storage, "getWorkerStatus");
    const now = Date.now();
    const otherLeader = workers.some(w => w.name !== me && w.lstatus === "leader" &&
        w.status === "alive" && now - w.last_ping < 9000);
    await call(storage, "announceLeaderCandidacy", me);
    const leader = await call(storage, "checkLeaderCandidacy", me);
    check(leader === !otherLeader,
        `checkLeaderCandidacy returned ${leader} with${otherLeader ? "" : "out"} another leader`);
    const leaders = (await call(storage, "getWorkerStatus")).filter(w => w.lstatus === "leader");
    check(leaders.length <= 1, "at most one leader, got " + leaders.map(w => w.name).join(","));

    // getMessages: exactly the sent message, once.
    const nonce = Math.random().toString(36).slice(2);
    await call(storage, "sendMessageToWorker", me, "interop_ping", { nonce }, 30000);
    const first = await call(storage, "getMessages", me);
    check(first.length === 1 && first[0].cmd === "interop_ping" && first[0].content.nonce === nonce,
        "getMessages returns the sent message: " + JSON.stringify(first));
    const second = await call(storage, "getMessages", me);
    check(second.length === 0, "second getMessages is empty: " + JSON.stringify(second));

    // getMessage (what qtopology's coordinator polls with): one at a time, none lost.
    await call(storage, "sendMessageToWorker", me, "one", {}, 30000);
    await call(storage, "sendMessageToWorker", me, "two", {}, 30000);
    const m1 = await call(storage, "getMessage", me);
    const m2 = await call(storage, "getMessage", me);
    const m3 = await call(storage, "getMessage", me);
    check(m1 && m1.cmd === "one" && m2 && m2.cmd === "two" && m3 === null,
        "getMessage delivers in order, each once: " + JSON.stringify([m1, m2, m3]));

    const uuid = `node-topology-${process.pid}-${now}`;
    await call(storage, "registerTopology", uuid,
        { general: { weight: 3, worker_affinity: [me, "other"] }, spouts: [], bolts: [] });
    const topologies = await call(storage, "getTopologyStatus");
    const mine = topologies.find(t => t.uuid === uuid);
    check(mine && mine.status === "unassigned" && mine.enabled === false && mine.weight === 3 &&
        mine.worker_affinity.join(",") === `${me},other`,
        "registered topology reads back: " + JSON.stringify(mine));
    const info = await call(storage, "getTopologyInfo", uuid);
    check(info.config.general.weight === 3, "topology config reads back");

    const self = (await call(storage, "getWorkerStatus")).find(w => w.name === me);
    check(self && self.status === "alive", "worker reads back alive: " + JSON.stringify(self));

    return {
        mode: "use", db_version: after, worker: me, leader, other_leader: otherLeader,
        messages: first.length, topologies: topologies.length, workers: workers.length
    };
}

// bad-rows: topology rows the Node package writes without a check that this
// library's writes make: a uuid with control characters, an affinity name
// with an escape sequence, a negative weight, a status of its own. Each is
// enabled, for a leader to consider.
async function badRowsMode(storage) {
    const rows = [
        ["node\u0001bad\u001b[2J", { general: {}, spouts: [], bolts: [] }],
        ["node-bad-affinity", { general: { worker_affinity: ["w\u001b]0;owned\u0007"] } }],
        ["node-bad-weight", { general: { weight: -3 } }],
        ["node-bad-status", { general: {} }],
    ];
    for (const [uuid, config] of rows) {
        await call(storage, "registerTopology", uuid, config);
        await call(storage, "enableTopology", uuid);
    }
    await call(storage, "setTopologyStatus", "node-bad-status", null, "paused", null);
    const listed = await call(storage, "getTopologyStatus");
    check(rows.every(([uuid]) => listed.some(t => t.uuid === uuid)),
        "the Node package reads back every row it wrote");
    return { mode: "bad-rows", written: rows.map(([uuid]) => uuid) };
}

async function main() {
    const opts = parseArgs(process.argv.slice(2));
    qtopology.logger().setLevel("none");
    const storage = new MySqlStorage({
        database: opts.database, host: opts.host, password: opts.password,
        port: opts.port, retries: 1, user: opts.user
    });
    try {
        const modes = { create: createMode, use: useMode, "bad-rows": badRowsMode };
        const summary = await modes[opts.mode](storage, opts);
        console.log(JSON.stringify({ ok: true, ...summary }));
    } finally {
        await new Promise(resolve => storage.close(() => resolve()));
    }
}

main().catch(err => {
    console.log(JSON.stringify({ ok: false, error: String(err && err.message || err) }));
    process.exit(1);
});
