#!/usr/bin/env node
// The Node peer of qtopology_bench: the package qtopology-mysql 2.2.1 doing
// the benchmarked operations on databases of its own (built by its own init,
// schema version 17) on the same server. Writes one JSON file that
// qtopology_bench merges into its table.
//
//   node bench.js --url mysql://user:pass@host:port/ --out node.json
//                 [--scale 1] [--cluster-seconds 10] [--cluster-max 12800]
//                 [--only percall,cluster,startup,idle] [--idle-workers 20]
//                 [--idle-seconds 30]
"use strict";

const fs = require("fs");
const path = require("path");
const { MySqlStorage } = require("qtopology-mysql");
const packageDir = path.dirname(require.resolve("qtopology-mysql"));
// the very driver and qtopology instance the package loaded
const mysql = require(require.resolve("mysql", { paths: [packageDir] }));
const qtopology = require(require.resolve("qtopology", { paths: [packageDir] }));

function parseArgs(argv) {
    const opts = { url: "", out: "", scale: 1, "cluster-seconds": 10, "cluster-max": 12800,
        only: "percall,cluster,startup", "idle-workers": 20, "idle-seconds": 30 };
    for (let i = 0; i < argv.length; i += 2) {
        const key = argv[i].replace(/^--/, "");
        if (!(key in opts) || argv[i + 1] === undefined) throw new Error("bad option " + argv[i]);
        opts[key] = typeof opts[key] === "number" ? Number(argv[i + 1]) : argv[i + 1];
    }
    if (!opts.url || !opts.out) throw new Error("usage: bench.js --url URL --out FILE");
    const u = new URL(opts.url);
    opts.server = { host: u.hostname, port: Number(u.port || 3306),
        user: decodeURIComponent(u.username), password: decodeURIComponent(u.password) };
    return opts;
}

const call = (target, method, ...args) => new Promise((resolve, reject) =>
    target[method](...args, (err, data) => (err ? reject(err) : resolve(data))));

const nowNs = () => process.hrtime.bigint();

function summary(samplesNs) {
    if (samplesNs.length === 0) return { count: 0 };
    const sorted = samplesNs.slice().sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    const pick = p => Number(sorted[Math.min(sorted.length - 1,
        Math.max(0, Math.ceil(p / 100 * sorted.length) - 1))]) / 1000;
    const total = samplesNs.reduce((a, b) => a + b, 0n);
    // as qtopology_bench: calls/s = 1 / mean latency of back-to-back calls
    return { count: sorted.length, p50_us: pick(50), p99_us: pick(99),
        per_s: sorted.length * 1e9 / Number(total) };
}

async function admin(opts, sql) {
    const conn = mysql.createConnection({ ...opts.server, multipleStatements: true });
    try {
        await call(conn, "query", sql);
    } finally {
        conn.end();
    }
}

async function freshStorage(opts, database) {
    await admin(opts, `drop database if exists \`${database}\`; ` +
        `create database \`${database}\``);
    const storage = new MySqlStorage({ ...opts.server, database, retries: 1 });
    await call(storage, "init");
    return storage;
}

// the same rows qtopology_bench makes, with the same SQL
const addWorkers = (storage, count, prefix) => call(storage, "query",
    "insert into qtopology_worker (name, status, lstatus, last_ping) " +
    `select concat('${prefix}', lpad(seq, 5, '0')), 'alive', 'normal', now() ` +
    `from seq_1_to_${count}`, null);
const addTopologies = (storage, count, workers, prefix) => call(storage, "query",
    "insert into qtopology_topology (uuid, config, status, worker, weight, worker_affinity, " +
    "last_ping, error, enabled, pid) " +
    "select concat('topology-', lpad(seq, 6, '0')), " +
    "'{\"general\":{\"weight\":1},\"spouts\":[],\"bolts\":[]}', 'running', " +
    `concat('${prefix}', lpad(1 + seq % ${workers}, 5, '0')), 1, '', now(), null, 1, null ` +
    `from seq_1_to_${count}`, null);

function bigConfig() {
    const config = { general: { heartbeat: 1000, weight: 2, worker_affinity: ["w00001"] },
        spouts: [], bolts: [] };
    for (let i = 0; JSON.stringify(config).length < 10 * 1024; ++i) {
        config.bolts.push({ name: "bolt" + i, working_dir: ".", type: "inproc", cmd: "filter",
            inputs: [{ source: "pump", stream_id: "s" + i }],
            init: { filter: { type: "a", limit: i } } });
    }
    return config;
}

async function measure(iterations, setup, op) {
    const warmup = Math.max(5, Math.floor(iterations / 20));
    for (let i = 0; i < warmup; ++i) {
        if (setup) await setup(i);
        await op(i);
    }
    const samples = [];
    for (let i = warmup; i < warmup + iterations; ++i) {
        if (setup) await setup(i);
        const start = nowNs();
        await op(i);
        samples.push(nowNs() - start);
    }
    return summary(samples);
}

async function perCall(opts) {
    const scaled = n => Math.max(10, Math.floor(n * opts.scale));
    const ops = await freshStorage(opts, "qbn_ops");
    const w1000 = await freshStorage(opts, "qbn_w1000");
    const t10000 = await freshStorage(opts, "qbn_t10000");
    await addWorkers(ops, 10, "w");
    await addWorkers(w1000, 1000, "w");
    await addWorkers(t10000, 10, "w");
    await addTopologies(t10000, 10000, 10, "w");
    await call(ops, "registerTopology", "t-status", { general: { weight: 1 } });
    await call(ops, "assignTopology", "t-status", "w00001");

    const config = bigConfig();
    const content = { uuid: "topology-000001" };
    const results = {};
    results.ping = await measure(scaled(1000), null, () => call(ops, "pingWorker", "w00001"));
    results.get_message_empty = await measure(scaled(1000), null,
        () => call(ops, "getMessage", "w00002"));
    results.get_message_one = await measure(scaled(1000),
        () => call(ops, "sendMessageToWorker", "w00003", "stop_topology", content, 60000),
        async () => {
            if (!(await call(ops, "getMessage", "w00003"))) throw new Error("no message");
        });
    results.worker_status_10 = await measure(scaled(1000), null,
        () => call(ops, "getWorkerStatus"));
    results.worker_status_1000 = await measure(scaled(300), null,
        () => call(w1000, "getWorkerStatus"));
    results.topology_status_10000 = await measure(scaled(60), null,
        () => call(t10000, "getTopologyStatus"));
    results.register_topology = await measure(scaled(500), null,
        i => call(ops, "registerTopology", "t-reg-" + (i % 16), config));
    results.set_topology_status = await measure(scaled(1000), null,
        () => call(ops, "setTopologyStatus", "t-status", "w00001", "running", null));
    // each pair a won election, as in qtopology_bench: step down first (untimed)
    results.leadership = await measure(scaled(500),
        () => call(ops, "setWorkerLStatus", "w00004", "normal"), async () => {
        await call(ops, "announceLeaderCandidacy", "w00004");
        if (!(await call(ops, "checkLeaderCandidacy", "w00004"))) throw new Error("not leader");
    });
    for (const s of [ops, w1000, t10000]) await call(s, "close");
    return results;
}

// Same simulation as qtopology_bench's: every call's latency is measured from
// when it was due, so event-loop lag and server queueing both count.
async function clusterStep(opts, storage, workers, seconds) {
    await call(storage, "query",
        "delete from qtopology_message; delete from qtopology_topology; " +
        "delete from qtopology_worker; delete from qtopology_worker_history; " +
        "delete from qtopology_topology_history", null);
    await addWorkers(storage, workers, "cw");
    await addTopologies(storage, workers, workers, "cw");
    await call(storage, "query", "update qtopology_topology set status = 'unassigned', " +
        "worker = null where id % 100 = 0", null);

    let roundTrips = 0;
    const query = storage.query.bind(storage);
    storage.query = (sql, obj, cb) => { ++roundTrips; query(sql, obj, cb); };

    const name = w => "cw" + String(w + 1).padStart(5, "0");
    const heartbeat = [];
    let errors = 0;
    let leaderMaxMs = 0;
    const { performance } = require("perf_hooks");
    const startMs = performance.now() + 200;
    const measureFrom = startMs + 1000;
    const endMs = startMs + (seconds + 1) * 1000;

    const leaderCycle = async () => {
        const ws = await call(storage, "getWorkerStatus");
        const ts = await call(storage, "getTopologyStatus");
        const load = new Map();
        const now = Date.now();
        for (const w of ws) {
            // what qtopology's leader does on this storage: silent workers are marked dead
            if (w.status === "alive" && now - w.last_ping > 30000) {
                await call(storage, "setWorkerStatus", w.name, "dead");
            } else if (w.status === "alive") {
                load.set(w.name, 0);
            }
        }
        for (const t of ts) {
            if (t.worker && (t.status === "running" || t.status === "waiting") && load.has(t.worker)) {
                load.set(t.worker, load.get(t.worker) + t.weight);
            }
        }
        // few unassigned topologies: a sorted list is enough and stays O(N log N)
        const lightest = [...load.entries()].sort((a, b) => a[1] - b[1]);
        let next = 0;
        for (const t of ts) {
            if (t.status !== "unassigned" || !t.enabled || lightest.length === 0) continue;
            const slot = lightest[next++ % lightest.length];
            await call(storage, "assignTopology", t.uuid, slot[0]);
            slot[1] += t.weight;
        }
    };

    const loops = [];
    const periodic = (periodMs, firstMs, kind, fn) => loops.push(new Promise(resolve => {
        let due = firstMs;
        const tick = async () => {
            try {
                await fn();
            } catch (e) {
                ++errors;
            }
            const late = performance.now() - due;
            if (kind === "ping" && due >= measureFrom) heartbeat.push(BigInt(Math.round(late * 1e6)));
            if (kind === "leader") leaderMaxMs = Math.max(leaderMaxMs, late);
            due += periodMs;
            if (due >= endMs) return resolve();
            setTimeout(tick, Math.max(0, due - performance.now()));
        };
        setTimeout(tick, Math.max(0, due - performance.now()));
    }));
    for (let w = 0; w < workers; ++w) {
        const n = name(w);
        periodic(1000, startMs + Math.random() * 1000, "ping", () => call(storage, "pingWorker", n));
        periodic(1000, startMs + Math.random() * 1000, "poll", () => call(storage, "getMessage", n));
        periodic(2000, startMs + Math.random() * 2000, "status",
            () => call(storage, "getTopologiesForWorker", n));
    }
    periodic(5000, startMs + 500, "leader", leaderCycle);
    await Promise.all(loops);
    storage.query = query;

    const s = summary(heartbeat);
    const step = {
        workers, heartbeat_p50_ms: (s.p50_us || 0) / 1000, heartbeat_p99_ms: (s.p99_us || 0) / 1000,
        round_trips_per_worker_s: roundTrips / workers / (seconds + 1),
        leader_cycle_ms: leaderMaxMs, errors
    };
    step.carried = errors === 0 && step.heartbeat_p99_ms < 100;
    return step;
}

async function cluster(opts) {
    const storage = await freshStorage(opts, "qbn_cluster");
    const steps = [];
    let good = 0;
    let bad = 0;
    for (let n = 100; n <= opts["cluster-max"]; n *= 2) {
        const step = await clusterStep(opts, storage, n, opts["cluster-seconds"]);
        steps.push(step);
        if (!step.carried) { bad = n; break; }
        good = n;
    }
    for (let i = 0; i < 2 && bad > 0 && good > 0; ++i) {
        const mid = Math.floor((good + bad) / 2);
        const step = await clusterStep(opts, storage, mid, opts["cluster-seconds"]);
        steps.push(step);
        if (step.carried) good = mid; else bad = mid;
    }
    await call(storage, "close");
    return steps;
}

// What an idle cluster of the package's workers writes: each pings once a
// second (qtopology's coordinator) and polls its messages once a second, as
// the cluster step's simulated worker; nothing to run, no leader loop. The
// server's own counters over the window, per worker per day (run alone on
// the server: the counters are global).
async function idle(opts) {
    const storage = await freshStorage(opts, "qbn_idle");
    const workers = opts["idle-workers"];
    await addWorkers(storage, workers, "iw");
    const read = async () => {
        const rows = await call(storage, "query",
            "select variable_name as n, variable_value as v from information_schema.global_status " +
            "where variable_name in ('BINLOG_COMMITS', 'INNODB_LSN_CURRENT', " +
            "'BINLOG_BYTES_WRITTEN', 'QUESTIONS')", null);
        const out = {};
        for (const r of rows) out[r.n] = Number(r.v);
        return out;
    };
    const name = w => "iw" + String(w + 1).padStart(5, "0");
    const { performance } = require("perf_hooks");
    const settleMs = 4000;
    const startMs = performance.now() + 200;
    const endMs = startMs + settleMs + opts["idle-seconds"] * 1000;
    let before = null;
    let measuredFrom = 0;
    const loops = [];
    const periodic = (fn, phaseMs) => loops.push(new Promise(resolve => {
        let due = startMs + phaseMs;
        const tick = async () => {
            try { await fn(); } catch (e) { /* counted by the server, if at all */ }
            due += 1000;
            if (due >= endMs) return resolve();
            setTimeout(tick, Math.max(0, due - performance.now()));
        };
        setTimeout(tick, Math.max(0, due - performance.now()));
    }));
    for (let w = 0; w < workers; ++w) {
        const n = name(w);
        periodic(() => call(storage, "pingWorker", n), 1000 * w / workers);
        periodic(() => call(storage, "getMessage", n), 1000 * w / workers + 500);
    }
    setTimeout(async () => { before = await read(); measuredFrom = performance.now(); },
        startMs + settleMs - performance.now());
    await Promise.all(loops);
    const after = await read();
    const window = (performance.now() - measuredFrom) / 1000;
    const perDay = 86400 / window / workers;
    await call(storage, "close");
    return {
        workers, seconds: window,
        commits: (after.BINLOG_COMMITS - before.BINLOG_COMMITS) * perDay,
        redo_bytes: (after.INNODB_LSN_CURRENT - before.INNODB_LSN_CURRENT) * perDay,
        binlog_bytes: (after.BINLOG_BYTES_WRITTEN - before.BINLOG_BYTES_WRITTEN) * perDay,
        round_trips_per_worker_s: (after.QUESTIONS - before.QUESTIONS) / window / workers
    };
}

async function startup(opts) {
    const migrate = [];
    const construct = [];
    for (let i = 0; i < 3; ++i) {
        const database = "qbn_startup_" + i;
        await admin(opts, `drop database if exists \`${database}\`; create database \`${database}\``);
        for (const into of [migrate, construct]) {
            const start = nowNs();
            const storage = new MySqlStorage({ ...opts.server, database, retries: 1 });
            await call(storage, "init");
            into.push(Number(nowNs() - start) / 1e6);
            await call(storage, "close");
        }
    }
    const median = xs => xs.slice().sort((a, b) => a - b)[1];
    return { migrate_ms: median(migrate), construct_ms: median(construct) };
}

async function main() {
    const opts = parseArgs(process.argv.slice(2));
    qtopology.logger().setLevel("none");
    const out = { node_version: process.version };
    if (opts.only.includes("percall")) {
        console.error("bench.js: per call...");
        out.ops = await perCall(opts);
    }
    if (opts.only.includes("cluster")) {
        console.error("bench.js: cluster load...");
        out.cluster = await cluster(opts);
    }
    if (opts.only.includes("idle")) {
        console.error("bench.js: idle cluster...");
        out.idle = await idle(opts);
    }
    if (opts.only.includes("startup")) {
        console.error("bench.js: start-up...");
        out.startup = await startup(opts);
    }
    fs.writeFileSync(opts.out, JSON.stringify(out, null, 2));
}

main().catch(err => {
    console.error("bench.js: " + (err && err.stack || err));
    process.exit(1);
});
