'use strict';
/*
 * `node bench/ab-builds.js <a/dist/main.js> <b/dist/main.js> [more builds] [rounds] [seconds] [--stream] [--access-log] [--policies]`:
 * two (or more) builds of the gateway, same run, rounds in rotating order (A B, B A, ...), for
 * "what did this change buy".
 * Each round: the bench upstream (bench/upstream.js) and autocannon (50 connections, 1 KiB GET
 * on a bare route; with --stream, 8 connections of 10 MiB responses) on one core, a fresh
 * gateway process alone on the other, run as shipped (`--max-semi-space-size=16`), 3 s of
 * warm-up, then `seconds` measured. Prints each round and the medians of req/s (MiB/s) and of
 * the gateway's CPU µs per request (per MiB), from /proc, steadier than the rate. --access-log
 * runs the gateways at LOG_LEVEL=info (one access line per request, read and dropped) instead of warn;
 * --policies runs the full-policy route of bench/README.md instead of the bare one (access log included).
 * BENCH_NODE picks the Node binary (e.g. Node 24 from a Node 20 host, as in bench/README.md).
 * With --stream, BENCH_STREAM_CONNECTIONS (8) sets the connections and BENCH_STREAM_RATE, if set,
 * a fixed number of requests per second over all of them (autocannon's -R), and each round
 * prints its p99 too.
 * Linux only (taskset, /proc); loopback only; everything it starts it kills.
 */
require('./lib/orphan-guard');
const { autocannonOnCore, pinnedChildren, waitFor } = require('./lib/pinned-children');
const { execFileSync } = require('node:child_process');
const { gatewayConfig, apiKeyEnv, FULL_POLICY_HEADERS, PATHS } = require('./lib/variants');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const NODE = process.env.BENCH_NODE || process.execPath;
const stream = process.argv.includes('--stream');
const policies = process.argv.includes('--policies');
const accessLog = policies || process.argv.includes('--access-log');
const positional = process.argv.slice(2).filter((arg) => !arg.startsWith('--'));
const mains = positional.filter((arg) => !/^\d+$/.test(arg));
const [rounds = '4', seconds = '10'] = positional.filter((arg) => /^\d+$/.test(arg));
if (mains.length < 2) {
  process.stderr.write('usage: node bench/ab-builds.js <a/dist/main.js> <b/dist/main.js> [more builds] [rounds=4] [seconds=10] [--stream] [--access-log] [--policies]\n');
  process.exit(2);
}
const builds = Object.fromEntries(mains.map((main, i) => [String.fromCharCode(65 + i), path.resolve(main)]));
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ab-builds-'));
const { start } = pinnedChildren(NODE, dir);
process.on('exit', () => fs.rmSync(dir, { recursive: true, force: true }));

const sleep = (ms) => new Promise((done) => setTimeout(done, ms));
const cpuTicks = (pid) => {
  const fields = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return Number(fields[11]) + Number(fields[12]);
};
const median = (xs) => {
  const s = [...xs].sort((x, y) => x - y);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

function load(port, secs) {
  // The bench upstream answers any path containing /files/big with 10 MiB.
  const [connections, target] = stream
    ? [process.env.BENCH_STREAM_CONNECTIONS || '8', policies ? PATHS.stream : '/bare/files/big.bin']
    : ['50', policies ? PATHS.json : '/bare/x'];
  const headers = policies ? Object.entries(FULL_POLICY_HEADERS).flatMap(([k, v]) => ['-H', `${k}=${v}`]) : [];
  const rate = stream && process.env.BENCH_STREAM_RATE ? ['-R', process.env.BENCH_STREAM_RATE] : [];
  return autocannonOnCore(NODE, 1, ['-c', connections, '-d', String(secs), ...rate, ...headers, `http://127.0.0.1:${port}${target}`]);
}

async function round(name, upstreamPort) {
  const config = path.join(dir, 'gateway.json');
  const upstreamUrl = `http://127.0.0.1:${upstreamPort}`;
  const settings = policies ? gatewayConfig(upstreamUrl, { routes: 10, full: true }) : { upstreams: { b: { targets: [upstreamUrl] } }, routes: [{ id: 'bare', path: '/bare/*', upstream: 'b' }] };
  fs.writeFileSync(config, JSON.stringify(settings));
  const env = { ...process.env, ...(policies ? apiKeyEnv() : {}), GATEWAY_CONFIG: config, GATEWAY_PORT: '0', GATEWAY_HOST: '127.0.0.1', LOG_LEVEL: accessLog ? 'info' : 'warn', NODE_ENV: 'production' };
  const gateway = start(0, ['--max-semi-space-size=16', builds[name]], env);
  const port = Number((await waitFor(gateway, /"msg":"gateway listening".*?"port":(\d+)/))[1]);
  // Log lines are read and dropped, as a log shipper would.
  gateway.stdout.resume();
  await load(port, 3);
  const before = cpuTicks(gateway.pid);
  const result = await load(port, Number(seconds));
  const cpuMicros = (cpuTicks(gateway.pid) - before) * (1e6 / 100);
  gateway.kill('SIGKILL');
  await sleep(300);
  const errors = result.errors + result.non2xx;
  if (stream) {
    const mib = result.throughput.total / 2 ** 20;
    return { build: name, rate: +(result.throughput.average / 2 ** 20).toFixed(1), cpuUs: +(cpuMicros / mib).toFixed(1), p99: result.latency.p99, errors };
  }
  return { build: name, rate: Math.round(result.requests.average), cpuUs: +(cpuMicros / result.requests.total).toFixed(1), errors };
}

(async () => {
  const upstream = start(1, [path.join(__dirname, 'upstream.js')]);
  const upstreamPort = Number((await waitFor(upstream, /"port":(\d+)/))[1]);
  const names = Object.keys(builds);
  const results = Object.fromEntries(names.map((name) => [name, []]));
  for (let i = 0; i < Number(rounds); i++) {
    // Each round starts one build later, so no build always runs first or last.
    for (const name of [...names.slice(i % names.length), ...names.slice(0, i % names.length)]) {
      const r = await round(name, upstreamPort);
      results[name].push(r);
      console.log(JSON.stringify(r));
    }
  }
  console.log(`node ${execFileSync(NODE, ['--version']).toString().trim()}`);
  for (const name of names) {
    const [rate, cpu] = [median(results[name].map((r) => r.rate)), median(results[name].map((r) => r.cpuUs))];
    const p99 = stream ? `, p99 ${median(results[name].map((r) => r.p99))} ms` : '';
    console.log(`${name} ${builds[name]}: median ${stream ? `${rate.toFixed(1)} MiB/s` : `${Math.round(rate)} req/s`}, ${cpu.toFixed(1)} CPU µs/${stream ? 'MiB' : 'request'}${p99}`);
  }
  process.exit(0);
})().catch((error) => {
  console.error(error.message);
  process.exit(1);
});
