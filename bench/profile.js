'use strict';
/*
 * `node bench/profile.js [dist/main.js] [seconds=8] [--policies|--stream] [--peer]`: where the gateway's CPU goes.
 * Runs the build under `--cpu-prof` on one core (as shipped: `--max-semi-space-size=16`), the
 * bench upstream and autocannon (50 connections, 1 KiB GET) on the other, then stops the
 * gateway with SIGTERM so V8 writes the profile, and prints self time grouped by where the code
 * lives (the gateway's own modules, each package in node_modules, Node's internals, GC) and the
 * 25 hottest functions. `--policies` profiles the full-policy route of bench/README.md, `--stream`
 * the 10 MiB responses (8 connections). `--peer` profiles the peer (bench/peer-fastify-proxy.js)
 * under the same load instead, for a side-by-side reading. The
 * .cpuprofile is kept for a flame graph (Chrome DevTools, speedscope). BENCH_NODE picks the Node
 * binary. Linux only (taskset); loopback only; everything it starts it kills.
 */
require('./lib/orphan-guard');
const { autocannonOnCore, pinnedChildren, waitFor } = require('./lib/pinned-children');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { gatewayConfig, apiKeyEnv, FULL_POLICY_HEADERS, PATHS } = require('./lib/variants');

const NODE = process.env.BENCH_NODE || process.execPath;
const args = process.argv.slice(2);
const policies = args.includes('--policies');
const stream = args.includes('--stream');
const peer = args.includes('--peer');
const [main = 'dist/main.js', seconds = '8'] = args.filter((a) => !a.startsWith('--'));
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-profile-'));
const { start } = pinnedChildren(NODE, dir);

/** Where a profile node's code lives, for grouping. */
function placeOf(url, functionName) {
  if (!url) return functionName.startsWith('(') ? functionName : '(native)';
  const inModules = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (inModules) return inModules[1];
  if (url.startsWith('node:')) return `node:${url.slice(5).split('/')[0]}`;
  const own = /\/dist\/(.+)\.js$/.exec(url);
  return own ? `gateway ${own[1].split('/')[0]}` : url;
}

/** Monotonic clock in µs, the clock V8 stamps profile samples with (both CLOCK_MONOTONIC on Linux). */
const nowMicros = () => Number(process.hrtime.bigint() / 1000n);

/** Self time per profile node, counting only samples taken in [from, to] (µs, monotonic). */
function selfTimes(profile, from, to) {
  const self = new Map();
  let at = profile.startTime;
  profile.samples.forEach((id, i) => {
    const delta = profile.timeDeltas[i] ?? 0;
    at += delta;
    if (at >= from && at <= to) self.set(id, (self.get(id) ?? 0) + delta);
  });
  return self;
}

function summarise(profile, from, to) {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = selfTimes(profile, from, to);
  const total = [...self.values()].reduce((a, b) => a + b, 0);
  const idle = [...self].filter(([id]) => byId.get(id).callFrame.functionName === '(idle)').reduce((a, [, t]) => a + t, 0);
  const busy = total - idle;
  const groups = new Map();
  const functions = new Map();
  for (const [id, time] of self) {
    const { functionName, url, lineNumber } = byId.get(id).callFrame;
    if (functionName === '(idle)') continue;
    const place = placeOf(url, functionName);
    groups.set(place, (groups.get(place) ?? 0) + time);
    const key = `${functionName || '(anonymous)'}  ${place}${url ? `:${lineNumber + 1}` : ''}`;
    functions.set(key, (functions.get(key) ?? 0) + time);
  }
  const pct = (t) => `${((100 * t) / busy).toFixed(1).padStart(5)}%`;
  console.log(`under load: busy ${(busy / 1e6).toFixed(2)} s of ${(total / 1e6).toFixed(2)} s sampled; shares of busy time:`);
  for (const [place, t] of [...groups].sort((a, b) => b[1] - a[1]).slice(0, 30)) console.log(`${pct(t)}  ${place}`);
  console.log('\nhottest functions (self time):');
  for (const [name, t] of [...functions].sort((a, b) => b[1] - a[1]).slice(0, 25)) console.log(`${pct(t)}  ${name}`);
}

(async () => {
  const upstream = start(1, [path.join(__dirname, 'upstream.js')]);
  const upstreamPort = Number((await waitFor(upstream, /"port":(\d+)/))[1]);
  const config = path.join(dir, 'gateway.json');
  fs.writeFileSync(config, JSON.stringify(gatewayConfig(`http://127.0.0.1:${upstreamPort}`, policies ? { routes: 10, full: true } : { routes: 10 })));
  const env = { ...process.env, ...(policies ? apiKeyEnv() : {}), GATEWAY_CONFIG: config, GATEWAY_PORT: '0', GATEWAY_HOST: '127.0.0.1', LOG_LEVEL: policies ? 'info' : 'warn', NODE_ENV: 'production' };
  const profiled = ['--cpu-prof', `--cpu-prof-dir=${dir}`];
  const gateway = peer
    ? start(0, [...profiled, path.join(__dirname, 'peer-fastify-proxy.js')], { ...process.env, BENCH_UPSTREAM: `http://127.0.0.1:${upstreamPort}` })
    : start(0, ['--max-semi-space-size=16', ...profiled, path.resolve(main)], env);
  const port = Number((await waitFor(gateway, peer ? /"ready":true,"port":(\d+)/ : /"msg":"gateway listening".*?"port":(\d+)/))[1]);
  // Access lines (--policies) go to the gateway's stdout: read and dropped, as a log shipper would.
  gateway.stdout.resume();
  const headers = policies ? Object.entries(FULL_POLICY_HEADERS).flatMap(([k, v]) => ['-H', `${k}=${v}`]) : [];
  const load = stream ? ['-c', '8', `http://127.0.0.1:${port}${PATHS.stream}`] : ['-c', '50', `http://127.0.0.1:${port}${PATHS.json}`];
  // Only the samples taken under load count: start-up (module compilation) and shutdown (a final
  // flush of log lines) are left out.
  const loadFrom = nowMicros();
  const result = await autocannonOnCore(NODE, 1, ['-d', seconds, ...headers, ...load]);
  const loadTo = nowMicros();
  gateway.kill('SIGTERM');
  await new Promise((done) => gateway.once('exit', done));
  const file = fs.readdirSync(dir).find((f) => f.endsWith('.cpuprofile'));
  if (!file) throw new Error('the gateway wrote no .cpuprofile');
  console.log(`load: ${result.requests.total} requests, ${(result.throughput.total / 2 ** 20).toFixed(0)} MiB in ${seconds} s (non-2xx ${result.non2xx}, errors ${result.errors})`);
  const profile = JSON.parse(fs.readFileSync(path.join(dir, file), 'utf8'));
  if (profile.endTime < loadTo || profile.startTime > loadFrom) throw new Error('the profile does not span the load: its clock is not the monotonic clock this script reads');
  summarise(profile, loadFrom, loadTo);
  console.log(`\nprofile: ${path.join(dir, file)}`);
  process.exit(0);
})().catch((error) => {
  console.error(error.message);
  process.exit(1);
});
