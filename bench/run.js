'use strict';
/*
 * The benchmark harness (`npm run bench` = `npm run build && node bench/run.js`).
 * See bench/README.md for what each case measures and how. Everything listens on and targets
 * 127.0.0.1; every run is bounded in time; every child process is stopped on exit, on error
 * and on Ctrl-C (and, through lib/orphan-guard.js, exits by itself if this process dies).
 */
const { spawn, spawnSync } = require('node:child_process');
const fs = require('node:fs');
const http = require('node:http');
const os = require('node:os');
const path = require('node:path');
const { benchVariants, withCopies, PATHS, AGAINST_BARE } = require('./lib/variants');
const { median, ratio } = require('./lib/stats');
const { cpusAllowed, listeningPorts } = require('./lib/procfs');
const { renderText, renderMarkdown } = require('./lib/report');

const ROOT = path.resolve(__dirname, '..');
const GUARD = path.join(__dirname, 'lib', 'orphan-guard.js');
const RESULTS_DIR = path.join(__dirname, 'results');
const MIB = 1024 * 1024;
const STREAM_BYTES = 10 * MIB;
const JSON_BYTES = 1024;
const PROXY_CORE = 0;
const LOAD_CORE = 1;

const USAGE = `Usage: node bench/run.js [options]   (npm run bench -- [options])

  --quick              smoke run: 1 s warm-up, 1 s measured, 1 round, short micro-benchmark
  --policies           add the "all policies on" gateway variant
  --cases=LIST         comma-separated subset of proxy,stream,routing (default: all)
  --variants=LIST      only these variants (names as in bench/lib/variants.js, e.g. gateway,peer,gateway-full;
                       gateway-full#2 adds a second, identical process of gateway-full)
  --warmup=S           warm-up seconds per run            (env BENCH_WARMUP, default 2)
  --duration=S         measured seconds per run           (env BENCH_DURATION, default 10)
  --rounds=N           rounds alternating the variants    (env BENCH_ROUNDS, default 4)
  --fresh              a new process of every proxy for each round of the 1 KiB case, so the
                       median is also one over processes (env BENCH_FRESH=1)
  --no-pin             do not pin processes with taskset  (env BENCH_PIN=0)
  --report=FILE        print the tables of a saved results JSON again (no benchmark)
  --help

  More env: BENCH_CONNECTIONS (50), BENCH_STREAM_CONNECTIONS (8), BENCH_STREAM_WARMUP (2),
  BENCH_STREAM_DURATION (5), BENCH_STREAM_RATE (unset: as fast as the connections go; N: N
  requests per second over all connections, the same offered load for every variant),
  BENCH_MICRO_ITERATIONS (1000000), BENCH_MICRO_ROUNDS (7),
  BENCH_GATEWAY_LOG_LEVEL (warn), BENCH_POLICIES=1, BENCH_CASES=..., BENCH_QUICK=1,
  BENCH_NODE=<path of a node binary> to run every process of the benchmark on another Node
  (e.g. BENCH_NODE=$(npx -y -p node@24 -- which node) for the Docker/CI runtime).
`;

// ---------------------------------------------------------------------------------------------
// Settings

class UsageError extends Error {}

function parseSettings(argv, env) {
  const flags = new Set();
  const values = {};
  for (const arg of argv) {
    const m = /^--([a-z-]+)(?:=(.*))?$/.exec(arg);
    if (!m) throw new UsageError(`unexpected argument ${arg}\n\n${USAGE}`);
    if (m[2] === undefined) flags.add(m[1]);
    else values[m[1]] = m[2];
  }
  for (const f of flags) {
    if (!['quick', 'policies', 'no-pin', 'fresh', 'help'].includes(f)) throw new UsageError(`unknown option --${f}\n\n${USAGE}`);
  }
  for (const k of Object.keys(values)) {
    if (!['cases', 'variants', 'warmup', 'duration', 'rounds', 'report'].includes(k)) throw new UsageError(`unknown option --${k}=\n\n${USAGE}`);
  }
  const quick = flags.has('quick') || env.BENCH_QUICK === '1';
  const defaults = quick
    ? { warmupSec: 1, durationSec: 1, rounds: 1, streamWarmupSec: 1, streamDurationSec: 1, microIterations: 100_000, microRounds: 3 }
    : { warmupSec: 2, durationSec: 10, rounds: 4, streamWarmupSec: 2, streamDurationSec: 5, microIterations: 1_000_000, microRounds: 7 };
  const number = (name, flagValue, envName, fallback, min, max, integer) => {
    const raw = flagValue ?? env[envName];
    if (raw === undefined || raw === '') return fallback;
    const n = Number(raw);
    if (!Number.isFinite(n) || n < min || n > max || (integer && !Number.isInteger(n))) {
      throw new UsageError(`${name} must be ${integer ? 'a whole number' : 'a number'} from ${min} to ${max} (got ${raw})`);
    }
    return n;
  };
  const casesRaw = values.cases ?? env.BENCH_CASES ?? 'proxy,stream,routing';
  const cases = new Set(casesRaw.split(',').map((c) => c.trim()).filter(Boolean));
  for (const c of cases) if (!['proxy', 'stream', 'routing'].includes(c)) throw new UsageError(`unknown case ${c} (proxy, stream, routing)`);
  return {
    help: flags.has('help'),
    report: values.report ?? null,
    quick,
    policies: flags.has('policies') || env.BENCH_POLICIES === '1' || values.variants !== undefined,
    cases: [...cases],
    variants: values.variants === undefined ? null : new Set(values.variants.split(',').map((v) => v.trim()).filter(Boolean)),
    pinRequested: !flags.has('no-pin') && env.BENCH_PIN !== '0',
    fresh: flags.has('fresh') || env.BENCH_FRESH === '1',
    warmupSec: number('warm-up', values.warmup, 'BENCH_WARMUP', defaults.warmupSec, 0, 120, false),
    durationSec: number('duration', values.duration, 'BENCH_DURATION', defaults.durationSec, 1, 300, false),
    rounds: number('rounds', values.rounds, 'BENCH_ROUNDS', defaults.rounds, 1, 20, true),
    connections: number('BENCH_CONNECTIONS', undefined, 'BENCH_CONNECTIONS', 50, 1, 1000, true),
    streamConnections: number('BENCH_STREAM_CONNECTIONS', undefined, 'BENCH_STREAM_CONNECTIONS', 8, 1, 64, true),
    streamWarmupSec: number('BENCH_STREAM_WARMUP', undefined, 'BENCH_STREAM_WARMUP', defaults.streamWarmupSec, 0, 120, false),
    streamDurationSec: number('BENCH_STREAM_DURATION', undefined, 'BENCH_STREAM_DURATION', defaults.streamDurationSec, 1, 300, false),
    streamRate: number('BENCH_STREAM_RATE', undefined, 'BENCH_STREAM_RATE', null, 1, 10_000, true),
    microIterations: number('BENCH_MICRO_ITERATIONS', undefined, 'BENCH_MICRO_ITERATIONS', defaults.microIterations, 1000, 1e8, true),
    microRounds: number('BENCH_MICRO_ROUNDS', undefined, 'BENCH_MICRO_ROUNDS', defaults.microRounds, 1, 50, true),
    gatewayLogLevel: env.BENCH_GATEWAY_LOG_LEVEL || 'warn',
  };
}

function tasksetWorks() {
  if (os.cpus().length < 2) return false;
  const r = spawnSync('taskset', ['-c', String(LOAD_CORE), 'true'], { stdio: 'ignore', timeout: 5000 });
  return r.status === 0;
}

function machineLabel() {
  let vm = false;
  try {
    vm = /^flags\s*:.*\bhypervisor\b/m.test(fs.readFileSync('/proc/cpuinfo', 'utf8'));
  } catch {
    // not Linux
  }
  return `${os.cpus().length}-core ${vm ? 'VM' : 'machine'}`;
}

function gitCommit() {
  const r = spawnSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT, encoding: 'utf8', timeout: 5000 });
  return r.status === 0 ? r.stdout.trim() : null;
}

// ---------------------------------------------------------------------------------------------
// Child processes

const children = new Map(); // ChildProcess -> info
let shuttingDown = false;
let fatalError = null;
let tmpDir = null;
let pin = false;

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Starts `node <args>` (through `taskset -c <core>` when pinning) with piped output. */
/*
 * The Node binary every child (upstream, proxies, load generator) runs on: this one, or
 * BENCH_NODE (e.g. the node@24 npm package's binary, the runtime of the Docker image and CI).
 */
const NODE_BINARY = process.env.BENCH_NODE || process.execPath;

function launch(name, core, nodeArgs, { env = process.env, cwd = ROOT, server = false } = {}) {
  if (shuttingDown) throw new Error('shutting down');
  const command = pin ? 'taskset' : NODE_BINARY;
  const args = pin ? ['-c', String(core), NODE_BINARY, ...nodeArgs] : nodeArgs;
  const child = spawn(command, args, { env, cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  const info = { name, child, server, stdout: '', lines: [], stderrTail: '', exited: false, code: null, signal: null, stopping: false };
  children.set(child, info);
  let partial = '';
  child.stdout.setEncoding('utf8');
  child.stderr.setEncoding('utf8');
  child.stdout.on('data', (chunk) => {
    if (info.stdout.length < 1_000_000) info.stdout += chunk;
    partial += chunk;
    const parts = partial.split('\n');
    partial = parts.pop();
    for (const line of parts) {
      if (info.lines.length >= 200) break;
      try {
        info.lines.push(JSON.parse(line));
      } catch {
        info.lines.push({ text: line });
      }
    }
  });
  child.stderr.on('data', (chunk) => {
    info.stderrTail = (info.stderrTail + chunk).slice(-4000);
  });
  info.exitPromise = new Promise((resolve) => {
    const done = (code, signal) => {
      if (info.exited) return;
      info.exited = true;
      info.code = code;
      info.signal = signal;
      children.delete(child);
      if (info.server && !info.stopping && !shuttingDown && !fatalError) {
        fatalError = new Error(`${name} (pid ${child.pid}) exited unexpectedly (${code ?? signal})\n${info.stderrTail || info.stdout.slice(-2000)}`);
        // Stop at once: the run in flight measures nothing any more.
        shutdown(1, `benchmark failed: ${fatalError.message}`);
      }
      resolve();
    };
    child.on('exit', done);
    child.on('error', (error) => {
      info.stderrTail += `\n${error.message}`;
      done(null, 'spawn-error');
    });
  });
  return info;
}

async function stop(info) {
  if (info.exited) return;
  info.stopping = true;
  info.child.kill('SIGTERM');
  await Promise.race([info.exitPromise, sleep(3000)]);
  if (info.exited) return;
  info.child.kill('SIGKILL');
  await Promise.race([info.exitPromise, sleep(2000)]);
}

function stopAll() {
  return Promise.all([...children.values()].map(stop));
}

/** Temp dirs of earlier runs that were killed too hard to clean up (their owner is gone). */
function removeStaleTmp() {
  for (const name of fs.readdirSync(os.tmpdir())) {
    if (!name.startsWith('nest-gateway-bench-')) continue;
    const dir = path.join(os.tmpdir(), name);
    let owner = NaN;
    try {
      owner = Number(fs.readFileSync(path.join(dir, 'owner.pid'), 'utf8'));
    } catch {
      // no owner file: not ours to judge
      continue;
    }
    if (Number.isInteger(owner) && owner > 0 && !fs.existsSync(`/proc/${owner}`)) fs.rmSync(dir, { recursive: true, force: true });
  }
}

function removeTmp() {
  if (tmpDir) {
    fs.rmSync(tmpDir, { recursive: true, force: true });
    tmpDir = null;
  }
}

async function shutdown(code, message) {
  if (shuttingDown) return;
  shuttingDown = true;
  if (message) process.stderr.write(`\n${message}\n`);
  await stopAll();
  removeTmp();
  process.exit(code);
}

process.on('exit', () => {
  for (const info of children.values()) {
    try {
      info.child.kill('SIGKILL');
    } catch {
      // already gone
    }
  }
  removeTmp();
});
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(signal, () => {
    if (shuttingDown) process.exit(130);
    shutdown(130, `${signal}: stopping every child process`);
  });
}

function checkFatal() {
  if (fatalError) throw fatalError;
  if (shuttingDown) throw new Error('shutting down');
}

/** Polls `probe` until it returns a value; fails when the child exits or time runs out. */
async function waitFor(info, what, timeoutMs, probe) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== null) return value;
    if (info.exited) throw new Error(`${info.name} exited (${info.code ?? info.signal}) before ${what}\n${info.stderrTail || info.stdout.slice(-2000)}`);
    if (Date.now() > deadline) throw new Error(`${info.name} (pid ${info.child.pid}): no ${what} within ${timeoutMs} ms\n${info.stderrTail}`);
    checkFatal();
    await sleep(50);
  }
}

function readyPort(info) {
  const line = info.lines.find((l) => l.ready === true && typeof l.port === 'number');
  return line ? line.port : null;
}

async function startScript(name, core, script, env) {
  const info = launch(name, core, [path.join(__dirname, script)], { env: { ...process.env, ...env }, server: true });
  const port = await waitFor(info, 'ready line', 15_000, () => readyPort(info));
  return { info, pid: info.child.pid, url: `http://127.0.0.1:${port}` };
}

/** The gateway as operators run it: node --max-semi-space-size=16 dist/main.js (as the Dockerfile does), configured by the environment. */
async function startGateway(variant) {
  const configPath = path.join(tmpDir, `gateway-${variant.name}.json`);
  fs.writeFileSync(configPath, JSON.stringify(variant.config, null, 2));
  const env = { ...process.env };
  for (const key of Object.keys(env)) {
    if (key.startsWith('GATEWAY_') || key === 'PORT' || key === 'REDIS_URL' || key === 'LOG_LEVEL') delete env[key];
  }
  Object.assign(env, {
    NODE_ENV: 'production',
    GATEWAY_CONFIG: configPath,
    GATEWAY_PORT: '0',
    GATEWAY_HOST: '127.0.0.1',
    LOG_LEVEL: variant.logLevel ?? settingsRef.gatewayLogLevel,
    ...variant.env,
  });
  // cwd is the temp dir, so no .env file of the checkout changes what is measured.
  const info = launch(`gateway[${variant.name}]`, PROXY_CORE, ['--max-semi-space-size=16', '-r', GUARD, path.join(ROOT, 'dist', 'main.js')], {
    env,
    cwd: tmpDir,
    server: true,
  });
  // The "gateway listening" line carries the port, but it is an info line: under LOG_LEVEL=warn
  // it is not printed, so the port is also read from /proc (the socket the process listens on).
  const port = await waitFor(info, 'listening port', 60_000, () => {
    const line = info.lines.find((l) => l.msg === 'gateway listening' && typeof l.port === 'number');
    if (line) return line.port;
    const ports = listeningPorts(info.child.pid);
    return ports.length === 1 ? ports[0] : null;
  });
  const url = `http://127.0.0.1:${port}`;
  await waitFor(info, 'GET /_gateway/health/live 200', 30_000, async () => {
    const r = await httpGet(`${url}/_gateway/health/live`).catch(() => null);
    return r && r.status === 200 ? true : null;
  });
  return { info, pid: info.child.pid, url };
}

function httpGet(url, timeoutMs = 10_000, headers = {}) {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { agent: false, timeout: timeoutMs, headers }, (res) => {
      let bytes = 0;
      res.on('data', (chunk) => {
        bytes += chunk.length;
      });
      res.on('end', () => resolve({ status: res.statusCode, bytes, headers: res.headers }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${url} timed out`)));
    req.on('error', reject);
  });
}

async function expectResponse(name, url, bytes, headers) {
  const r = await httpGet(url, 30_000, headers);
  if (r.status !== 200 || r.bytes !== bytes) {
    throw new Error(`sanity check: GET ${url} via ${name} gave ${r.status} with ${r.bytes} bytes, expected 200 with ${bytes}`);
  }
}

/** One warm-up + measured run of autocannon in its own process, on the load core. */
async function runLoad(opts) {
  checkFatal();
  const info = launch('load generator', LOAD_CORE, ['-r', GUARD, path.join(__dirname, 'load.js'), JSON.stringify(opts)]);
  const budgetMs = ((opts.warmupSec || 0) + opts.durationSec + 2 * (opts.timeoutSec || 10)) * 1000 + 15_000;
  const timer = setTimeout(() => {
    info.stderrTail += `\nkilled after ${budgetMs} ms`;
    info.child.kill('SIGKILL');
  }, budgetMs);
  await info.exitPromise;
  clearTimeout(timer);
  checkFatal();
  if (info.code !== 0) throw new Error(`load generator failed (${info.code ?? info.signal}): ${info.stderrTail}`);
  return JSON.parse(info.stdout.trim().split('\n').pop());
}

async function runMicro(settings) {
  const info = launch('routing micro-benchmark', PROXY_CORE, [
    '-r',
    GUARD,
    path.join(__dirname, 'routing-micro.js'),
    JSON.stringify({ iterations: settings.microIterations, rounds: settings.microRounds }),
  ]);
  const budgetMs = 120_000 + settings.microIterations * settings.microRounds * 3 * 0.02; // 20 µs/op: far above real
  const timer = setTimeout(() => info.child.kill('SIGKILL'), budgetMs);
  await info.exitPromise;
  clearTimeout(timer);
  checkFatal();
  if (info.code !== 0) throw new Error(`routing micro-benchmark failed (${info.code ?? info.signal}): ${info.stderrTail}`);
  return JSON.parse(info.stdout.trim().split('\n').pop());
}

// ---------------------------------------------------------------------------------------------
// Aggregation

function rotate(list, by) {
  const k = by % list.length;
  return [...list.slice(k), ...list.slice(0, k)];
}

function totals(runs) {
  const sum = (key) => runs.reduce((acc, r) => acc + (r[key] || 0), 0);
  return { requests: sum('requests'), non2xx: sum('non2xx'), errors: sum('errors'), timeouts: sum('timeouts') };
}

function proxyCpu(run, key) {
  return run.cpu.proxy ? run.cpu.proxy[key] : null;
}

function aggregateProxy(runs) {
  return {
    reqPerSec: median(runs.map((r) => r.reqPerSec)),
    p50: median(runs.map((r) => r.latencyMs.p50)),
    p99: median(runs.map((r) => r.latencyMs.p99)),
    cpuUsPerReq: median(runs.map((r) => proxyCpu(r, 'usPerReq'))),
    cpuUtilisation: median(runs.map((r) => proxyCpu(r, 'utilisation'))),
    upstreamCpuUsPerReq: median(runs.map((r) => (r.cpu.upstream ? r.cpu.upstream.usPerReq : null))),
  };
}

function aggregateStream(runs) {
  return {
    mibPerSec: median(runs.map((r) => r.bytesPerSec / MIB)),
    p50: median(runs.map((r) => r.latencyMs.p50)),
    p99: median(runs.map((r) => r.latencyMs.p99)),
    cpuUsPerMiB: median(runs.map((r) => (r.cpu.proxy && r.bytes > 0 ? (r.cpu.proxy.sec * 1e6) / (r.bytes / MIB) : null))),
    cpuUtilisation: median(runs.map((r) => proxyCpu(r, 'utilisation'))),
    // Busy share of each core during the measured runs (pinned runs only): when the load
    // generator's core is full, the MiB/s and the tail are the load generator's, not the proxy's.
    proxyCoreBusy: median(runs.map((r) => (pin && r.cores ? r.cores[`cpu${PROXY_CORE}`] : null))),
    loadCoreBusy: median(runs.map((r) => (pin && r.cores ? r.cores[`cpu${LOAD_CORE}`] : null))),
  };
}

/**
 * CPU used on each core during a measured run by processes other than ours (other jobs on the
 * machine, idle proxies waking up), in core units: the core's busy fraction from /proc/stat
 * minus what the pinned processes of the run used there.
 */
function otherLoad(r) {
  if (!r.cores || !pin) return null;
  const util = (label) => (r.cpu[label] ? r.cpu[label].utilisation : 0);
  const core0 = r.cores[`cpu${PROXY_CORE}`];
  const core1 = r.cores[`cpu${LOAD_CORE}`];
  if (typeof core0 !== 'number' || typeof core1 !== 'number') return null;
  return {
    core0: Math.max(0, core0 - util('proxy')),
    core1: Math.max(0, core1 - util('upstream') - util('loadGenerator')),
  };
}

function fmt(x, digits = 0) {
  return typeof x === 'number' && Number.isFinite(x) ? x.toLocaleString('en-US', { maximumFractionDigits: digits }) : '–';
}

// ---------------------------------------------------------------------------------------------
// Main

let settingsRef = null;

/** Names of the variants each workload runs, from the variant list, the cases and the flags. */
function selectVariants(all, settings) {
  const cases = new Set(settings.cases);
  if (settings.variants !== null) {
    const unknown = [...settings.variants].filter((name) => !all.some((v) => v.name === name));
    if (unknown.length > 0) throw new UsageError(`unknown variant ${unknown.join(', ')} (${all.map((v) => v.name).join(', ')})`);
  }
  const enabled = all.filter((v) => {
    if (settings.variants !== null && !settings.variants.has(v.name)) return false;
    if (v.flag === '--policies' && !settings.policies) return false;
    if (v.group === 'routing' && !cases.has('routing')) return false;
    return true;
  });
  let proxy = enabled.filter((v) => v.cases.includes('proxy'));
  if (!cases.has('proxy')) {
    // Routing alone: only the gateway tables, end to end.
    proxy = cases.has('routing') ? proxy.filter((v) => v.name === 'gateway' || v.group === 'routing') : [];
  }
  const stream = cases.has('stream') ? enabled.filter((v) => v.cases.includes('stream')) : [];
  return { proxyNames: proxy.map((v) => v.name), streamNames: stream.map((v) => v.name) };
}

function estimateSeconds(settings, proxyCount, streamCount) {
  let s = 20; // start-up of the servers and the sanity checks
  if (settings.cases.includes('routing')) s += 5 + (settings.microIterations * settings.microRounds * 3 * 600) / 1e9;
  s += settings.rounds * proxyCount * (settings.warmupSec + settings.durationSec + 2.5);
  if (settings.fresh) s += (settings.rounds - 1) * proxyCount * 4; // a new proxy per round
  s += settings.rounds * streamCount * (settings.streamWarmupSec + settings.streamDurationSec + 2.5);
  return s;
}

async function main() {
  const settings = parseSettings(process.argv.slice(2), process.env);
  settingsRef = settings;
  if (settings.help) {
    process.stdout.write(USAGE);
    return;
  }
  if (settings.report) {
    const saved = JSON.parse(fs.readFileSync(settings.report, 'utf8'));
    process.stdout.write(`${renderText(saved)}\n--- markdown ---\n\n${renderMarkdown(saved)}`);
    return;
  }
  for (const f of ['dist/main.js', 'dist/routing/route-table.js']) {
    if (!fs.existsSync(path.join(ROOT, f))) throw new Error(`${f} is missing: run npm run build first (npm run bench does)`);
  }
  pin = settings.pinRequested && tasksetWorks();
  const cases = new Set(settings.cases);

  // Which variants run: the routing case adds the 10k table to the 1 KiB rounds. The configs
  // need the upstream's URL, so the selection is made on names here and resolved later.
  const { proxyNames, streamNames } = selectVariants(withCopies(benchVariants('http://127.0.0.1:9'), settings.variants), settings);
  const estimate = estimateSeconds(settings, proxyNames.length, streamNames.length);
  const limitMs = (estimate * 2 + 120) * 1000;
  const deadline = setTimeout(() => shutdown(1, `time limit of ${Math.round(limitMs / 1000)} s reached: stopping`), limitMs);

  const meta = {
    date: new Date().toISOString(),
    machine: machineLabel(),
    cpuModel: os.cpus()[0] ? os.cpus()[0].model : null,
    node: NODE_BINARY === process.execPath ? process.version : require('node:child_process').execFileSync(NODE_BINARY, ['--version']).toString().trim(),
    platform: `${os.platform()} ${os.release()} ${os.arch()}`,
    commit: gitCommit(),
    pinning: pin,
    loadAverageStart: os.loadavg(),
    autocannon: require('autocannon/package.json').version,
    peer: `fastify ${require('fastify/package.json').version}, @fastify/http-proxy ${require('@fastify/http-proxy/package.json').version}`,
  };
  process.stdout.write(
    `nest-gateway benchmark: ${meta.machine}, Node ${meta.node}, ${pin ? 'pinned (proxy core 0, upstream + load core 1)' : 'not pinned'}\n` +
      `cases: ${settings.cases.join(', ')}; variants: ${[...new Set([...proxyNames, ...streamNames])].join(', ')}; ` +
      `about ${Math.ceil(estimate / 60)} min (hard limit ${Math.round(limitMs / 60000)} min)\n`,
  );

  const results = { meta, settings, paths: PATHS, processes: {} };

  if (cases.has('routing')) {
    process.stdout.write('routing micro-benchmark (RouteTable.match, 10 vs 10,000 routes)...\n');
    results.routingMicro = await runMicro(settings);
    const [a, b, c] = results.routingMicro.results;
    process.stdout.write(`  ${fmt(a.nsPerOp)} ns/op vs ${fmt(b.nsPerOp)} ns/op (spread: ${fmt(c.nsPerOp)}), 10k/10 = ${results.routingMicro.ratio10kTo10.toFixed(2)}\n`);
  }

  if (proxyNames.length + streamNames.length > 0) {
    removeStaleTmp();
    tmpDir = fs.mkdtempSync(path.join(os.tmpdir(), 'nest-gateway-bench-'));
    fs.writeFileSync(path.join(tmpDir, 'owner.pid'), String(process.pid));
    const upstream = await startScript('upstream', LOAD_CORE, 'upstream.js', {});
    const targets = { direct: { pid: upstream.pid, url: upstream.url, info: upstream.info } };
    const byName = new Map(withCopies(benchVariants(upstream.url), settings.variants).map((v) => [v.name, v]));
    const proxyVariants = proxyNames.map((n) => byName.get(n));
    const streamVariants = streamNames.map((n) => byName.get(n));
    const needed = [...new Set([...proxyNames, ...streamNames])].map((n) => byName.get(n));
    const startTarget = (v) => (v.kind === 'peer' ? startScript('peer', PROXY_CORE, 'peer-fastify-proxy.js', { BENCH_UPSTREAM: upstream.url }) : startGateway(v));
    for (const v of needed) if (v.kind !== 'direct') targets[v.name] = await startTarget(v);
    for (const v of needed) {
      const t = targets[v.name];
      results.processes[v.name] = { pid: t.pid, cpus: cpusAllowed(t.pid) };
      await expectResponse(v.name, t.url + PATHS.json, JSON_BYTES, v.requestHeaders);
      if (streamNames.includes(v.name)) await expectResponse(v.name, t.url + PATHS.stream, STREAM_BYTES);
    }
    results.processes.upstream = { pid: upstream.pid, cpus: cpusAllowed(upstream.pid) };

    const notesOf = (v) => {
      const notes = [];
      const info = targets[v.name].info;
      if (v.kind === 'gateway' && info.lines.some((l) => l.msg === 'config fields accepted but not enforced yet')) {
        notes.push('policy fields accepted but not enforced by this build');
      }
      return notes;
    };
    const cpuPids = (v) => (v.kind === 'direct' ? { upstream: upstream.pid } : { proxy: targets[v.name].pid, upstream: upstream.pid });

    if (proxyVariants.length > 0) {
      const runs = new Map(proxyVariants.map((v) => [v.name, []]));
      for (let round = 0; round < settings.rounds; round++) {
        for (const v of rotate(proxyVariants, round)) {
          if (settings.fresh && round > 0 && v.kind !== 'direct') {
            // One process's JIT and GC history moves its cost by up to ~15% (bench/README.md
            // "Identical processes in one run"); a new one per round makes the median one over processes.
            await stop(targets[v.name].info);
            targets[v.name] = await startTarget(v);
            await expectResponse(v.name, targets[v.name].url + PATHS.json, JSON_BYTES, v.requestHeaders);
          }
          const r = await runLoad({
            url: targets[v.name].url + PATHS.json,
            headers: v.requestHeaders,
            connections: settings.connections,
            warmupSec: settings.warmupSec,
            durationSec: settings.durationSec,
            cpuPids: cpuPids(v),
          });
          r.otherLoad = otherLoad(r);
          if (v.kind !== 'direct') r.pid = targets[v.name].pid;
          runs.get(v.name).push(r);
          const c = r.cpu.proxy;
          process.stdout.write(
            `[1 KiB ${round + 1}/${settings.rounds}] ${v.name.padEnd(17)} ${fmt(r.reqPerSec).padStart(7)} req/s  p50 ${fmt(r.latencyMs.p50, 1)} ms  ` +
              `p99 ${fmt(r.latencyMs.p99, 1)} ms${c ? `  ${fmt(c.usPerReq)} µs/req  CPU ${fmt(c.utilisation * 100)}%` : ''}` +
              `${r.otherLoad ? `  other load c0 ${fmt(r.otherLoad.core0 * 100)}% c1 ${fmt(r.otherLoad.core1 * 100)}%` : ''}` +
              `${r.non2xx + r.errors + r.timeouts > 0 ? `  non-2xx ${r.non2xx} errors ${r.errors} timeouts ${r.timeouts}` : ''}\n`,
          );
        }
      }
      const out = { order: proxyVariants.map((v) => v.name), variants: {} };
      for (const v of proxyVariants) {
        out.variants[v.name] = {
          label: v.label,
          kind: v.kind,
          notes: notesOf(v),
          median: aggregateProxy(runs.get(v.name)),
          totals: totals(runs.get(v.name)),
          rounds: runs.get(v.name),
        };
      }
      const m = (name) => (out.variants[name] ? out.variants[name].median : {});
      out.ratios = {
        gatewayToDirectReqPerSec: ratio(m('gateway').reqPerSec, m('direct').reqPerSec),
        gatewayToPeerReqPerSec: ratio(m('gateway').reqPerSec, m('peer').reqPerSec),
        gatewayToPeerCpuPerReq: ratio(m('gateway').cpuUsPerReq, m('peer').cpuUsPerReq),
        gatewayToPeerP99: ratio(m('gateway').p99, m('peer').p99),
        fullToPeerReqPerSec: ratio(m('gateway-full').reqPerSec, m('peer').reqPerSec),
      };
      // Each design variant against the bare gateway of the same run: <prefix>ToGatewayReqPerSec / CpuPerReq.
      for (const [variant, [prefix]] of Object.entries(AGAINST_BARE)) {
        if (!out.variants[variant]) continue;
        out.ratios[`${prefix}ToGatewayReqPerSec`] = ratio(m(variant).reqPerSec, m('gateway').reqPerSec);
        out.ratios[`${prefix}ToGatewayCpuPerReq`] = ratio(m(variant).cpuUsPerReq, m('gateway').cpuUsPerReq);
      }
      if (cases.has('proxy')) results.proxy = out;
      if (out.variants['gateway-10k'] && out.variants.gateway) {
        const small = m('gateway');
        const large = m('gateway-10k');
        results.routingE2E = {
          small,
          large,
          reqPerSecRatio: ratio(large.reqPerSec, small.reqPerSec),
          cpuPerReqRatio: ratio(large.cpuUsPerReq, small.cpuUsPerReq),
          p99Ratio: ratio(large.p99, small.p99),
        };
        if (!cases.has('proxy')) results.routingE2E.rounds = { gateway: runs.get('gateway'), 'gateway-10k': runs.get('gateway-10k') };
      }
    }

    if (streamVariants.length > 0) {
      const runs = new Map(streamVariants.map((v) => [v.name, []]));
      const rss = new Map(streamVariants.map((v) => [v.name, { beforeKb: null, peakKb: null, hwmKb: null }]));
      for (let round = 0; round < settings.rounds; round++) {
        for (const v of rotate(streamVariants, round)) {
          const pids = cpuPids(v);
          const r = await runLoad({
            url: targets[v.name].url + PATHS.stream,
            connections: settings.streamConnections,
            warmupSec: settings.streamWarmupSec,
            durationSec: settings.streamDurationSec,
            rate: settings.streamRate,
            timeoutSec: 30,
            cpuPids: pids,
            rssPids: pids.proxy ? { proxy: pids.proxy } : {},
            rssIntervalMs: 20,
          });
          r.otherLoad = otherLoad(r);
          runs.get(v.name).push(r);
          const m = rss.get(v.name);
          if (r.rss.proxy) {
            if (m.beforeKb === null) m.beforeKb = r.rss.proxy.beforeKb;
            m.peakKb = Math.max(m.peakKb || 0, r.rss.proxy.peakKb);
            m.hwmKb = r.rss.proxy.hwmKb;
          }
          process.stdout.write(
            `[10 MiB ${round + 1}/${settings.rounds}] ${v.name.padEnd(16)} ${fmt(r.bytesPerSec / MIB).padStart(5)} MiB/s  p50 ${fmt(r.latencyMs.p50)} ms` +
              `${r.rss.proxy ? `  RSS ${fmt(r.rss.proxy.beforeKb / 1024)} -> peak ${fmt(r.rss.proxy.peakKb / 1024)} MiB` : ''}` +
              `${r.otherLoad ? `  other load c0 ${fmt(r.otherLoad.core0 * 100)}% c1 ${fmt(r.otherLoad.core1 * 100)}%` : ''}` +
              `${r.non2xx + r.errors + r.timeouts > 0 ? `  non-2xx ${r.non2xx} errors ${r.errors} timeouts ${r.timeouts}` : ''}\n`,
          );
        }
      }
      const out = { order: streamVariants.map((v) => v.name), variants: {} };
      for (const v of streamVariants) {
        out.variants[v.name] = {
          label: v.label,
          kind: v.kind,
          median: aggregateStream(runs.get(v.name)),
          rss: rss.get(v.name),
          totals: totals(runs.get(v.name)),
          rounds: runs.get(v.name),
        };
      }
      const m = (name) => (out.variants[name] ? out.variants[name].median : {});
      out.ratios = {
        gatewayToDirect: ratio(m('gateway').mibPerSec, m('direct').mibPerSec),
        gatewayToPeer: ratio(m('gateway').mibPerSec, m('peer').mibPerSec),
        gatewayToPeerP99: ratio(m('gateway').p99, m('peer').p99),
      };
      // RSS growth (peak minus before), MiB: what streaming held beyond the resting process.
      const growth = (name) => (out.variants[name] && out.variants[name].rss.peakKb !== null ? (out.variants[name].rss.peakKb - out.variants[name].rss.beforeKb) / 1024 : null);
      out.rssGrowthMiB = { gateway: growth('gateway'), peer: growth('peer') };
      results.stream = out;
    }

    // Gateway log lines at the chosen level (warnings, errors), for the record.
    results.gatewayLogs = {};
    for (const v of needed) {
      if (v.kind === 'gateway') results.gatewayLogs[v.name] = targets[v.name].info.lines.slice(0, 20);
    }
    shuttingDown = true; // from here on, exits are expected
    await stopAll();
    removeTmp();
    shuttingDown = false;
  }

  clearTimeout(deadline);
  meta.loadAverageEnd = os.loadavg();
  const allRuns = [results.proxy, results.stream, results.routingE2E && results.routingE2E.rounds ? { variants: { x: { rounds: Object.values(results.routingE2E.rounds).flat() } } } : null]
    .filter(Boolean)
    .flatMap((section) => Object.values(section.variants).flatMap((v) => v.rounds));
  // Core 0 only counts while a proxy ran on it (otherwise other jobs simply use the idle core).
  const withLoad = allRuns.filter((r) => r.otherLoad);
  const core0 = withLoad.filter((r) => r.cpu.proxy).map((r) => r.otherLoad.core0);
  meta.otherLoad = withLoad.length
    ? { core0: median(core0), core1: median(withLoad.map((r) => r.otherLoad.core1)), maxCore0: core0.length ? Math.max(...core0) : null }
    : null;
  meta.elapsedSec = Math.round(process.uptime());

  const text = renderText(results);
  const markdown = renderMarkdown(results);
  fs.mkdirSync(RESULTS_DIR, { recursive: true });
  const stamp = meta.date.replace(/[:.]/g, '-');
  const jsonPath = path.join(RESULTS_DIR, `bench-${stamp}.json`);
  const mdPath = path.join(RESULTS_DIR, `bench-${stamp}.md`);
  fs.writeFileSync(jsonPath, `${JSON.stringify(results, null, 2)}\n`);
  fs.writeFileSync(mdPath, markdown);
  fs.copyFileSync(jsonPath, path.join(RESULTS_DIR, 'latest.json'));
  fs.copyFileSync(mdPath, path.join(RESULTS_DIR, 'latest.md'));
  process.stdout.write(`${text}\nresults: ${path.relative(ROOT, jsonPath)}\nmarkdown for bench/README.md: ${path.relative(ROOT, mdPath)}\n`);
  process.stdout.write(`elapsed: ${meta.elapsedSec} s\n`);
}

main().then(
  () => process.exit(0),
  async (error) => {
    if (shuttingDown && !fatalError) return; // a signal or the time limit is already stopping everything
    const usage = error instanceof UsageError;
    await shutdown(usage ? 2 : 1, usage ? error.message : `benchmark failed: ${error && error.stack ? error.stack : error}`);
  },
);

