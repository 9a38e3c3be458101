#!/usr/bin/env node
// A real Node QTopology worker for the mixed-cluster tests: qtopology's own
// TopologyWorker (heartbeat, election, leader loop, message handling, child
// processes for Node-format topologies) over the qtopology-mysql storage, on
// a database that C++ workers share.
//
//   node node_worker.js --url mysql://user:pass@host:port/db --name NAME
//                       [--loop-ms N] [--leader-loop-ms N] [--log-level LEVEL]
//
// qtopology takes no timing options: its coordinator polls messages every
// 2 s and its leader loop runs every 5 s. Both are plain fields of the
// objects the worker builds, so --loop-ms and --leader-loop-ms set them after
// construction, before run(); everything else runs as shipped. (Its 300 s
// limit for declaring a silent worker dead is a module constant and stays.)
//
// Exits as the Node worker does: 0 after a shutdown message or SIGTERM.
"use strict";

const qtopology = require("qtopology");
const { MySqlStorage } = require("qtopology-mysql");

function parseArgs(argv) {
    const opts = { url: "", name: "", loopMs: 0, leaderLoopMs: 0, logLevel: "normal" };
    const keys = {
        "--url": "url", "--name": "name", "--loop-ms": "loopMs",
        "--leader-loop-ms": "leaderLoopMs", "--log-level": "logLevel"
    };
    for (let i = 0; i < argv.length; i += 2) {
        const key = keys[argv[i]];
        if (!key) {
            throw new Error("unknown option " + argv[i]);
        }
        if (argv[i + 1] === undefined) {
            throw new Error("missing value for " + argv[i]);
        }
        opts[key] = typeof opts[key] === "number" ? Number(argv[i + 1]) : argv[i + 1];
        if (typeof opts[key] === "number" && !(opts[key] > 0)) {
            throw new Error(argv[i] + " needs a positive number of milliseconds");
        }
    }
    if (!opts.url || !opts.name) {
        throw new Error("usage: node_worker.js --url mysql://user:pass@host:port/db --name NAME " +
            "[--loop-ms N] [--leader-loop-ms N] [--log-level LEVEL]");
    }
    return opts;
}

function storageOptions(url) {
    const u = new URL(url);
    if (u.protocol !== "mysql:") {
        throw new Error("--url must start with mysql://, got " + u.protocol);
    }
    return {
        database: decodeURIComponent(u.pathname.replace(/^\//, "")),
        host: u.hostname,
        password: decodeURIComponent(u.password),
        port: u.port ? Number(u.port) : 3306,
        user: decodeURIComponent(u.username)
    };
}

function main() {
    let opts;
    try {
        opts = parseArgs(process.argv.slice(2));
    } catch (err) {
        console.error("node_worker.js: " + err.message);
        process.exit(2);
    }
    qtopology.logger().setLevel(opts.logLevel);
    const storage = new MySqlStorage(storageOptions(opts.url));
    const worker = new qtopology.TopologyWorker({ name: opts.name, storage });
    if (opts.loopMs) {
        worker.coordinator.loop_timeout = opts.loopMs;
    }
    if (opts.leaderLoopMs) {
        worker.coordinator.leadership.loop_timeout = opts.leaderLoopMs;
    }
    qtopology.logger().important(`[node_worker] ${opts.name} (pid ${process.pid}) starting: ` +
        `message loop ${worker.coordinator.loop_timeout} ms, ` +
        `leader loop ${worker.coordinator.leadership.loop_timeout} ms`);
    worker.run();
}

main();
