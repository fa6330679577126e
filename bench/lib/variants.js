'use strict';
const { createHash } = require('node:crypto');
/*
 * What is measured, as data. A variant is { name, label, kind, config?, cases, flag? }:
 *   kind    'direct' (the upstream itself), 'gateway' (node dist/main.js with `config`),
 *           or 'peer' (bench/peer-fastify-proxy.js)
 *   cases   which workloads it takes part in: 'proxy' (1 KiB JSON), 'stream' (10 MiB)
 *   flag    when set, the variant only runs with this command-line flag
 *   logLevel  the gateway's LOG_LEVEL for this variant (default BENCH_GATEWAY_LOG_LEVEL, warn)
 *   env       more environment for the gateway process; requestHeaders: sent with every request
 * Adding a design variant (another policy mix, another table size) is one more entry.
 */

/**
 * A realistic route table of `count` routes: per service `s<k>` a static collection path, a
 * `:param` item path, a nested `:param` + static path and a `*` tail wildcard. The first
 * routes of a bigger table are the routes of a smaller one, so the same requests match the
 * same routes whatever the size.
 */
function generateRoutes(count, extra = {}) {
  const routes = [];
  for (let k = 0; routes.length < count; k++) {
    const candidates = [
      { id: `s${k}-items`, path: `/api/s${k}/items`, methods: ['GET', 'POST'] },
      { id: `s${k}-item`, path: `/api/s${k}/items/:id` },
      { id: `s${k}-history`, path: `/api/s${k}/items/:id/history`, methods: ['GET'] },
      { id: `s${k}-files`, path: `/api/s${k}/files/*` },
    ];
    for (const route of candidates) {
      if (routes.length < count) routes.push({ ...route, upstream: 'bench', ...extra });
    }
  }
  return routes;
}

/** The gateway config: one upstream (the bench upstream), `routes` routes, optional policies. */
function gatewayConfig(upstreamUrl, { routes, policies = false, rateLimit = false, healthCheck = false, plugins = false, full = false }) {
  const upstream = { targets: [upstreamUrl], pool: { maxSockets: 100, maxIdleSockets: 100, idleTimeoutMs: 30000 } };
  const routePolicies = {};
  const config = { upstreams: { bench: upstream }, routes: [] };
  // The full-policy route: both permits and the deadline, the memory rate limit and the api-key plugin alone.
  if (full) routePolicies.plugins = [API_KEY_PLUGIN];
  if (policies || full) {
    // Limits above the load's 50 connections: the cost of the bookkeeping, never a rejection.
    config.defaults = { timeoutMs: 30000 };
    upstream.concurrency = { limit: 200 };
    Object.assign(routePolicies, { timeoutMs: 30000, concurrency: { limit: 100, queue: 100, queueTimeoutMs: 1000 } });
  }
  if (healthCheck) {
    // Active checks every second on the upstream the requests go to (the bench upstream answers any path).
    upstream.healthCheck = { path: '/healthz', intervalMs: 1000, timeoutMs: 500 };
  }
  if (rateLimit || full) {
    // Per client address, far above what one run sends: the cost of counting, never a 429.
    routePolicies.rateLimit = { limit: 1_000_000_000, windowMs: 60_000, key: 'ip' };
  }
  if (plugins) {
    // An API key checked on every request (a SHA-256 per request) and CORS headers on every response.
    routePolicies.plugins = [
      API_KEY_PLUGIN,
      { name: 'cors', config: { origins: [PLUGIN_ORIGIN], credentials: true } },
    ];
  }
  config.routes = generateRoutes(routes, routePolicies);
  return config;
}

/** The environment the api-key plugin reads its key digests from. */
function apiKeyEnv() {
  return { BENCH_API_KEYS: `{bench: ${createHash('sha256').update(PLUGIN_KEY).digest('hex')}}` };
}

const PLUGIN_ORIGIN = 'https://app.example.com';
const PLUGIN_KEY = 'bench-api-key-000000000001';
const API_KEY_PLUGIN = Object.freeze({ name: 'api-key', config: { header: 'x-api-key', keysEnv: 'BENCH_API_KEYS' } });
/** Sent with every request of the full-policy variant: the key the api-key plugin checks. */
const FULL_POLICY_HEADERS = Object.freeze({ 'x-api-key': PLUGIN_KEY });

/** Each design variant, measured against the bare gateway of the same run: its ratio prefix and its report label. */
const AGAINST_BARE = Object.freeze({
  'gateway-accesslog': ['accessLog', 'access-log'],
  'gateway-policies': ['policies', 'policies'],
  'gateway-healthcheck': ['healthCheck', 'health-checks'],
  'gateway-ratelimit': ['rateLimit', 'rate-limit'],
  'gateway-plugins': ['plugins', 'api-key+cors'],
  'gateway-full': ['full', 'full-policy'],
});

/** The request paths of the two workloads; both match a route in every table above. */
const PATHS = Object.freeze({
  json: '/api/s1/items/42', // the `:param` route s1-item
  stream: '/api/s0/files/big.bin', // the `*` route s0-files; the upstream streams 10 MiB for it
});

function benchVariants(upstreamUrl) {
  return [
    { name: 'direct', label: 'direct upstream (no proxy)', kind: 'direct', cases: ['proxy', 'stream'] },
    {
      name: 'gateway',
      label: 'gateway, bare routes (10-route table)',
      kind: 'gateway',
      config: gatewayConfig(upstreamUrl, { routes: 10 }),
      cases: ['proxy', 'stream'],
    },
    { name: 'peer', label: 'fastify 5 + @fastify/http-proxy 11', kind: 'peer', cases: ['proxy', 'stream'] },
    {
      name: 'gateway-accesslog',
      label: 'gateway, bare routes + access log (LOG_LEVEL=info)',
      kind: 'gateway',
      config: gatewayConfig(upstreamUrl, { routes: 10 }),
      logLevel: 'info',
      cases: ['proxy'],
    },
    {
      name: 'gateway-10k',
      label: 'gateway, bare routes (10,000-route table)',
      kind: 'gateway',
      config: gatewayConfig(upstreamUrl, { routes: 10000 }),
      cases: ['proxy'],
      group: 'routing',
    },
    {
      name: 'gateway-ratelimit',
      label: 'gateway + memory rate limit (key ip, never trips)',
      kind: 'gateway',
      config: gatewayConfig(upstreamUrl, { routes: 10, rateLimit: true }),
      cases: ['proxy'],
      flag: '--policies',
    },
    {
      name: 'gateway-healthcheck',
      label: 'gateway, bare routes + active health checks (1 s)',
      kind: 'gateway',
      config: gatewayConfig(upstreamUrl, { routes: 10, healthCheck: true }),
      cases: ['proxy'],
      flag: '--policies',
    },
    {
      name: 'gateway-plugins',
      label: 'gateway + api-key and cors plugins on the route',
      kind: 'gateway',
      config: gatewayConfig(upstreamUrl, { routes: 10, plugins: true }),
      env: apiKeyEnv(),
      requestHeaders: { 'x-api-key': PLUGIN_KEY, origin: PLUGIN_ORIGIN },
      cases: ['proxy'],
      flag: '--policies',
    },
    {
      name: 'gateway-policies',
      label: 'gateway + policies (route & upstream concurrency, timeout)',
      kind: 'gateway',
      config: gatewayConfig(upstreamUrl, { routes: 10, policies: true }),
      cases: ['proxy'],
      flag: '--policies',
    },
    {
      name: 'gateway-full',
      label: 'gateway, full-policy route (permits, deadline, rate limit, api-key, access log)',
      kind: 'gateway',
      config: gatewayConfig(upstreamUrl, { routes: 10, full: true }),
      env: apiKeyEnv(),
      requestHeaders: FULL_POLICY_HEADERS,
      logLevel: 'info',
      cases: ['proxy'],
      flag: '--policies',
    },
  ];
}

/**
 * `--variants=gateway-full,gateway-full#2` runs a second process of the same variant (same
 * config, started the same way, measured in the same rotation): how far two identical processes
 * differ within one run (bench/README.md "Identical processes in one run").
 */
function withCopies(variants, requestedNames) {
  const copies = [];
  for (const name of requestedNames ?? []) {
    const match = /^(.+)#(\d+)$/.exec(name);
    const base = match && variants.find((v) => v.name === match[1]);
    if (base) copies.push({ ...base, name, label: `${base.label}, process #${match[2]}` });
  }
  return [...variants, ...copies];
}

module.exports = { generateRoutes, gatewayConfig, benchVariants, withCopies, apiKeyEnv, FULL_POLICY_HEADERS, PATHS, AGAINST_BARE };
