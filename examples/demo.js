'use strict';
/*
 * `npm run demo` (after `npm run build`): starts the example upstream services on
 * 127.0.0.1:3001-3003 (DEMO_USERS_PORT, DEMO_ORDERS_PORT, DEMO_SLOW_PORT change them), then the
 * gateway (`node dist/main.js`) with config/gateway.yaml, waits for its "gateway listening" log
 * line and prints curl lines to try. Ctrl-C or SIGTERM stops everything; a second Ctrl-C kills
 * whatever is left at once.
 */
const os = require('node:os');
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const net = require('node:net');
const path = require('node:path');
const readline = require('node:readline');

const ROOT = path.resolve(__dirname, '..');
const GATEWAY_MAIN = path.join(ROOT, 'dist', 'main.js');
/** The demo's admin token (docs/operations.md "Admin API"); a real deployment sets its own secret. */
const ADMIN_TOKEN = process.env.GATEWAY_ADMIN_TOKEN || 'demo-admin-token-not-a-secret';
const CONFIG = 'config/gateway.yaml';
/** The services and the ports config/gateway.yaml expects them on; each can be moved by its variable. */
const SERVICES = [
  { name: 'users', variable: 'DEMO_USERS_PORT', configPort: 3001 },
  { name: 'orders', variable: 'DEMO_ORDERS_PORT', configPort: 3002 },
  { name: 'slow', variable: 'DEMO_SLOW_PORT', configPort: 3003 },
].map((service) => ({ ...service, port: servicePort(service) }));
/** The `inventory` upstream of the demo config points here; nothing may listen on it. */
const DEAD_PORT = 3999;
const START_TIMEOUT_MS = 30_000;
const STOP_TIMEOUT_MS = 15_000;

/** The config file the gateway reads: config/gateway.yaml, or a copy with moved service ports. */
let configInUse = CONFIG;
/** Every child started, in start order: { name, child }. */
const children = [];
let stopping = false;

function servicePort({ variable, configPort }) {
  const raw = process.env[variable];
  if (raw === undefined || raw === '') return configPort;
  const port = Number(raw);
  if (!/^\d+$/.test(raw) || port < 1 || port > 65535) {
    process.stderr.write(`[demo] ${variable}=${raw}: expected a port number from 1 to 65535\n`);
    process.exit(1);
  }
  return port;
}

/**
 * config/gateway.yaml itself when the services run on its ports; otherwise a copy in a temp
 * directory with their targets moved (the text is kept, comments and all).
 */
function demoConfig() {
  const moved = SERVICES.filter((s) => s.port !== s.configPort);
  if (moved.length === 0) return CONFIG;
  let text = fs.readFileSync(path.join(ROOT, CONFIG), 'utf8');
  for (const s of moved) text = text.replaceAll(`127.0.0.1:${s.configPort}`, `127.0.0.1:${s.port}`);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gateway-demo-'));
  process.once('exit', () => fs.rmSync(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'gateway.yaml');
  fs.writeFileSync(file, text);
  say(`services on ${moved.map((s) => `${s.name} :${s.port}`).join(', ')}: the gateway reads ${file}, a copy of ${CONFIG} with those targets`);
  return file;
}

function say(line) {
  process.stdout.write(`[demo] ${line}\n`);
}

function fail(line) {
  process.stderr.write(`[demo] ${line}\n`);
}

function isRunning(child) {
  return child.exitCode === null && child.signalCode === null;
}

/** Resolves null when the port can be bound on `host`, else the error code (EADDRINUSE, EACCES...). */
function portProblem(port, host) {
  return new Promise((resolve) => {
    const probe = net.createServer();
    probe.once('error', (error) => resolve(error.code ?? error.message));
    probe.listen({ port, host, exclusive: true }, () => probe.close(() => resolve(null)));
  });
}

/** The gateway port as the demo can know it before start-up (env files may still change it). */
function expectedGatewayPort() {
  const raw = process.env.GATEWAY_PORT || process.env.PORT || '8080';
  const port = Number(raw);
  return Number.isInteger(port) && port > 0 && port <= 65535 ? port : null;
}

async function checkPorts() {
  const busy = [];
  for (const { name, port } of SERVICES) {
    const problem = await portProblem(port, '127.0.0.1');
    if (problem) busy.push(`port ${port} (${name} service, ${SERVICES.find((s) => s.name === name).variable}) is not free: ${problem}`);
  }
  const gatewayPort = expectedGatewayPort();
  const gatewayHost = process.env.GATEWAY_HOST || '0.0.0.0';
  if (gatewayPort !== null) {
    const problem = await portProblem(gatewayPort, gatewayHost);
    if (problem) busy.push(`port ${gatewayPort} (the gateway, GATEWAY_PORT) is not free: ${problem}`);
  }
  if (busy.length > 0) {
    for (const line of busy) fail(line);
    fail('stop what uses these ports (see `lsof -i :<port>` or `ss -ltnp`) and run the demo again;');
    fail('or move them: GATEWAY_PORT=<port> for the gateway (0 picks a free one), DEMO_USERS_PORT,');
    fail('DEMO_ORDERS_PORT and DEMO_SLOW_PORT for the services.');
    process.exit(1);
  }
  if (await portProblem(DEAD_PORT, '127.0.0.1')) {
    say(`note: something listens on port ${DEAD_PORT}, so the 502 example below will not answer 502`);
  }
}

/** Prefixes each line a child writes, so the services' output is told apart from the gateway's. */
function prefixLines(stream, prefix) {
  readline.createInterface({ input: stream }).on('line', (line) => process.stdout.write(`${prefix}${line}\n`));
}

function startService({ name, port }) {
  const child = spawn(process.execPath, [path.join(__dirname, 'services', `${name}.js`), String(port)], {
    cwd: ROOT,
    // Own process group: Ctrl-C reaches the demo only, and the demo stops everyone in order.
    detached: true,
    stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
  });
  children.push({ name, child });
  prefixLines(child.stdout, `[${name}] `);
  return new Promise((resolve, reject) => {
    child.once('message', (message) => {
      if (message && message.type === 'listening') resolve();
    });
    child.once('exit', (code, signal) => reject(new Error(`the ${name} service stopped during start-up (${signal ?? `exit code ${code}`})`)));
  });
}

/** Starts the gateway; resolves with the parsed "gateway listening" log line. */
function startGateway() {
  if (process.env.GATEWAY_CONFIG && path.resolve(ROOT, process.env.GATEWAY_CONFIG) !== path.resolve(ROOT, CONFIG)) {
    say(`ignoring GATEWAY_CONFIG=${process.env.GATEWAY_CONFIG}: the demo needs ${CONFIG}`);
  }
  configInUse = demoConfig();
  const child = spawn(process.execPath, ['--max-semi-space-size=16', GATEWAY_MAIN], {
    cwd: ROOT,
    env: { ...process.env, GATEWAY_CONFIG: configInUse, GATEWAY_ADMIN_TOKEN: ADMIN_TOKEN },
    detached: true,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  children.push({ name: 'gateway', child });
  return new Promise((resolve, reject) => {
    let listening = false;
    // The gateway's log lines pass through unchanged; the first "gateway listening" one is the signal.
    readline.createInterface({ input: child.stdout }).on('line', (line) => {
      process.stdout.write(`${line}\n`);
      if (listening) return;
      const entry = parseJson(line);
      if (entry && entry.msg === 'gateway listening') {
        listening = true;
        resolve(entry);
      }
    });
    child.once('exit', (code, signal) => {
      if (!listening) reject(new Error(`the gateway stopped during start-up (${signal ?? `exit code ${code}`}); see its output above`));
    });
    setTimeout(() => {
      if (!listening) reject(new Error(`the gateway did not log "gateway listening" within ${START_TIMEOUT_MS / 1000} s`));
    }, START_TIMEOUT_MS).unref();
  });
}

function parseJson(line) {
  try {
    const value = JSON.parse(line);
    return typeof value === 'object' && value !== null ? value : null;
  } catch {
    return null;
  }
}

function printTryLines(url) {
  const examples = [
    ['proxied with a rewrite: /api/users/42 -> users service GET /v1/users/42', `curl -sS -i ${url}/api/users/42`],
    ['a static segment beats :param: /api/users/me -> route users-me', `curl -sS ${url}/api/users/me`],
    ['a header predicate picks route users-read-v2 (-> /v2/users/42)', `curl -sS -H 'x-api-version: 2' ${url}/api/users/42`],
    ['stripPrefix /api, query string kept: -> orders service GET /orders?status=open', `curl -sS '${url}/api/orders?status=open'`],
    [
      'a JSON body streamed through: -> orders service POST /orders (201)',
      `curl -sS -i -X POST -H 'content-type: application/json' -d '{"item":"book","qty":2}' ${url}/api/orders`,
    ],
    ['the path is normalised before matching: -> route users-read, upstream /v1/users/42', `curl -sS --path-as-is '${url}/api/orders/../users/%34%32'`],
    ['a regex route with a $1 rewrite: /v2/legacy/users/7 -> /v1/users/7', `curl -sS ${url}/v2/legacy/users/7`],
    ['rateLimit 3 per 10 s per client: 200 200 200 429', `for i in 1 2 3 4; do curl -sS -o /dev/null -w '%{http_code} ' ${url}/api/limited/users/7; done; echo`],
    ['api-key: 401 without a key', `curl -sS -i ${url}/partner/orders/1`],
    [
      'api-key: with a key the orders service sees X-Consumer-Id: partner-a, never the key; 5 per 10 s per partner',
      `curl -sS -H 'x-api-key: demo-partner-key-0001' ${url}/partner/orders/1`,
    ],
    [
      'cors: a preflight from http://localhost:3000 is answered by the gateway (204), never forwarded',
      `curl -sS -i -X OPTIONS -H 'origin: http://localhost:3000' -H 'access-control-request-method: POST' ${url}/api/orders`,
    ],
    ['a slow upstream (answers after ?delay ms)', `curl -sS '${url}/api/slow?delay=500'`],
    ['404 no_route', `curl -sS -i ${url}/nope`],
    ['405 method_not_allowed with an Allow header', `curl -sS -i -X DELETE ${url}/api/users/42`],
    [
      '413 body_too_large (the demo config allows 1 MiB)',
      `head -c 2000000 /dev/zero | curl -sS -i -H 'Expect:' -X POST --data-binary @- ${url}/api/orders`,
    ],
    [`502 upstream_unreachable (nothing listens on 127.0.0.1:${DEAD_PORT})`, `curl -sS -i ${url}/api/inventory/items`],
    ['400 bad_request: an absolute-form target (the gateway is not an open proxy)', `curl -sS -i --request-target http://example.com/ ${url}/`],
    ['liveness', `curl -sS -i ${url}/_gateway/health/live`],
    ['readiness: the users upstream is health-checked (GET /healthz every 5 s)', `curl -sS -i ${url}/_gateway/health/ready`],
    ['admin: live figures per route and upstream (requests/s, p50/p99, permits, target health)', `curl -sS -H 'authorization: Bearer ${ADMIN_TOKEN}' ${url}/_gateway/admin/stats`],
    [
      'admin: which route would serve DELETE /api/users/42, and why the others would not',
      `curl -sS -H 'authorization: Bearer ${ADMIN_TOKEN}' '${url}/_gateway/admin/explain?method=DELETE&path=/api/users/42'`,
    ],
    [`admin: re-read ${configInUse} after editing it (saving the file or kill -HUP also reloads)`, `curl -sS -X POST -H 'authorization: Bearer ${ADMIN_TOKEN}' ${url}/_gateway/admin/reload`],
  ];
  const lines = ['', `The gateway is listening on ${url} with ${configInUse}. Try, from another terminal:`, ''];
  for (const [title, command] of examples) lines.push(`  # ${title}`, `  ${command}`, '');
  lines.push(
    `Upstreams: users 127.0.0.1:${SERVICES[0].port}, orders :${SERVICES[1].port}, slow :${SERVICES[2].port}.`,
    'Ctrl-C stops the gateway and the services.',
    '',
  );
  process.stdout.write(lines.join('\n'));
}

/** Signals every child still running (gateway first), waits for them, then exits. */
async function stopAll(exitCode) {
  if (stopping) return;
  stopping = true;
  const ordered = [...children].reverse();
  for (const { child } of ordered) {
    if (!isRunning(child)) continue;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    const timer = new Promise((resolve) => setTimeout(resolve, STOP_TIMEOUT_MS).unref());
    await Promise.race([exited, timer]);
    if (isRunning(child)) child.kill('SIGKILL');
  }
  process.exit(exitCode);
}

function onSignal(signal) {
  if (stopping) {
    say(`${signal} again: killing what is left`);
    for (const { child } of children) if (isRunning(child)) child.kill('SIGKILL');
    process.exit(130);
  }
  say(`${signal}: stopping the gateway and the example services`);
  void stopAll(0);
}

async function main() {
  if (!fs.existsSync(GATEWAY_MAIN)) {
    fail('dist/main.js is missing: run `npm run build` first (or `npm run demo`, which builds)');
    process.exit(1);
  }
  process.on('SIGINT', () => onSignal('SIGINT'));
  process.on('SIGTERM', () => onSignal('SIGTERM'));
  // Last resort (an unexpected crash of the demo itself): take the children down with it.
  process.on('exit', () => {
    for (const { child } of children) if (isRunning(child)) child.kill('SIGKILL');
  });

  await checkPorts();
  try {
    await Promise.all(SERVICES.map(startService));
    const listening = await startGateway();
    printTryLines(typeof listening.url === 'string' ? listening.url : `http://127.0.0.1:${listening.port}`);
  } catch (error) {
    fail(error instanceof Error ? error.message : String(error));
    await stopAll(1);
    return;
  }
  // From here on, any child that stops on its own ends the demo.
  for (const { name, child } of children) {
    child.once('exit', (code, signal) => {
      if (stopping) return;
      fail(`the ${name} process stopped unexpectedly (${signal ?? `exit code ${code}`}); stopping the rest`);
      void stopAll(1);
    });
  }
}

void main();
