#!/usr/bin/env node
// Assignment to running for Node topologies (a timer spout into a
// file_append bolt): qtopology-worker, through qtopology's own child
// wrapper, against qtopology 2.3.2's own Node worker, in the same run, on the
// same server, with the same intervals. Each kind gets a database of its own
// (migrated by the C++ CLI, which both kinds run on) and is the only worker
// there, so it is also the leader that assigns. The time is taken from the
// first poll that sees the topology assigned (waiting) to the first that
// sees it running; polls every 10 ms through qtopology-mysql.
//
//   node start_latency.js --url mysql://user:pass@host:port/ --cli PATH
//        --worker PATH --node-worker PATH --node-modules DIR
//        [--topologies 6] [--rounds 3] [--tick-ms 500]
"use strict";

const childProcess = require("child_process");
const fs = require("fs");
const os = require("os");
const path = require("path");
const { MySqlStorage } = require("qtopology-mysql");
const packageDir = path.dirname(require.resolve("qtopology-mysql"));
const mysql = require(require.resolve("mysql", { paths: [packageDir] }));
const qtopology = require(require.resolve("qtopology", { paths: [packageDir] }));
// the storage's own log of every query would drown the table
qtopology.logger().setLevel("error");

function parseArgs(argv) {
    const opts = { url: "", cli: "", worker: "", "node-worker": "", "node-modules": "",
        topologies: 6, rounds: 3, "tick-ms": 500 };
    for (let i = 0; i < argv.length; i += 2) {
        const key = argv[i].replace(/^--/, "");
        if (!(key in opts) || argv[i + 1] === undefined) throw new Error("bad option " + argv[i]);
        opts[key] = typeof opts[key] === "number" ? Number(argv[i + 1]) : argv[i + 1];
    }
    for (const key of ["url", "cli", "worker", "node-worker", "node-modules"]) {
        if (!opts[key]) throw new Error("missing --" + key);
    }
    const u = new URL(opts.url);
    opts.server = { host: u.hostname, port: Number(u.port || 3306),
        user: decodeURIComponent(u.username), password: decodeURIComponent(u.password) };
    return opts;
}

const call = (target, method, ...args) => new Promise((resolve, reject) =>
    target[method](...args, (err, data) => (err ? reject(err) : resolve(data))));
const sleep = ms => new Promise(resolve => setTimeout(resolve, ms));

async function admin(opts, sql) {
    const conn = mysql.createConnection({ ...opts.server, multipleStatements: true });
    try {
        await call(conn, "query", sql);
    } finally {
        conn.end();
    }
}

function topology(file) {
    return {
        general: { heartbeat: 100 },
        spouts: [{ name: "ticks", type: "sys", working_dir: ".", cmd: "timer", init: {} }],
        bolts: [{ name: "out", type: "sys", working_dir: ".", cmd: "file_append",
            inputs: [{ source: "ticks" }], init: { file_name_template: file } }],
        variables: {}
    };
}

function startWorker(opts, kind, url) {
    const tick = String(opts["tick-ms"]);
    const log = fs.openSync(path.join(os.tmpdir(), `qtopology-start-latency-${kind}.log`), "w");
    if (kind === "cpp") {
        return childProcess.spawn(opts.worker, ["--name", "cpp-1", "--url", url, "--tick-ms", tick,
            "--leader-loop-ms", tick, "--node-modules", opts["node-modules"]],
        { stdio: ["ignore", log, log] });
    }
    return childProcess.spawn(process.execPath, [opts["node-worker"], "--url", url, "--name",
        "node-1", "--loop-ms", tick, "--leader-loop-ms", tick],
    { stdio: ["ignore", log, log], env: { ...process.env, NODE_PATH: opts["node-modules"] } });
}

async function measure(opts, kind, round) {
    const database = `qtopology_start_latency_${kind}`;
    await admin(opts, `drop database if exists \`${database}\`; create database \`${database}\``);
    const url = opts.url.replace(/\/[^/]*$/, "/") + database;
    const migrated = childProcess.spawnSync(opts.cli, ["--url", url, "migrate"]);
    if (migrated.status !== 0) throw new Error("migrate failed: " + migrated.stderr);
    const storage = new MySqlStorage({ ...opts.server, database, retries: 1 });
    const worker = startWorker(opts, kind, url);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "qtopology-start-latency-"));
    try {
        const leaderBy = Date.now() + 30000;
        for (;;) {
            const workers = await call(storage, "getWorkerStatus");
            if (workers.some(w => w.status === "alive" && w.lstatus === "leader")) break;
            if (Date.now() > leaderBy) throw new Error(kind + " worker did not lead within 30 s");
            await sleep(50);
        }
        const uuids = [];
        for (let i = 0; i < opts.topologies; i++) {
            const uuid = `start-${kind}-${round}-${i}`;
            uuids.push(uuid);
            await call(storage, "registerTopology", uuid, topology(path.join(dir, uuid + ".txt")));
        }
        for (const uuid of uuids) await call(storage, "enableTopology", uuid);
        const assigned = new Map();
        const running = new Map();
        const until = Date.now() + 60000;
        while (running.size < uuids.length && Date.now() < until) {
            const now = process.hrtime.bigint();
            for (const t of await call(storage, "getTopologyStatus")) {
                if (t.worker && (t.status === "waiting" || t.status === "running") &&
                    !assigned.has(t.uuid)) {
                    assigned.set(t.uuid, now);
                }
                if (t.status === "running" && !running.has(t.uuid)) running.set(t.uuid, now);
            }
            await sleep(10);
        }
        if (running.size < uuids.length) {
            throw new Error(`${kind}: ${running.size} of ${uuids.length} ran within 60 s`);
        }
        return uuids.map(u => Number(running.get(u) - assigned.get(u)) / 1e6);
    } finally {
        worker.kill("SIGTERM");
        await new Promise(resolve => worker.once("exit", resolve));
        storage.close(() => {});
        fs.rmSync(dir, { recursive: true, force: true });
    }
}

function median(values) {
    const sorted = [...values].sort((a, b) => a - b);
    return sorted[Math.floor(sorted.length / 2)];
}

async function main() {
    const opts = parseArgs(process.argv.slice(2));
    const samples = { cpp: [], node: [] };
    // Alternating, so that a slower minute of the machine hits both.
    for (let round = 0; round < opts.rounds; round++) {
        for (const kind of ["cpp", "node"]) samples[kind].push(...await measure(opts, kind, round));
    }
    const cpp = median(samples.cpp);
    const node = median(samples.node);
    console.log("| measure | qtopology-worker | Node worker (qtopology 2.3.2) | ratio |");
    console.log("|---|---|---|---|");
    console.log(`| Node topology, assignment to running, median of ${samples.cpp.length} ` +
        `(tick ${opts["tick-ms"]} ms) | ${cpp.toFixed(0)} ms | ${node.toFixed(0)} ms | ` +
        `${(cpp / node).toFixed(2)}x |`);
    console.log(`| the same, worst | ${Math.max(...samples.cpp).toFixed(0)} ms | ` +
        `${Math.max(...samples.node).toFixed(0)} ms | ` +
        `${(Math.max(...samples.cpp) / Math.max(...samples.node)).toFixed(2)}x |`);
}

main().catch(err => {
    console.error(err.stack || String(err));
    process.exit(1);
});
