'use strict';
/*
 * Routing scale, micro-benchmark: RouteTable.match from dist/routing/route-table.js on a
 * 10-route and a 10,000-route table, in the same process, rounds alternating the tables,
 * medians of ns/op. Run by run.js (pinned to the proxy core); also runnable alone:
 *   node bench/routing-micro.js '{"iterations":1000000,"rounds":7}'
 * Prints one JSON line.
 */
require('./lib/orphan-guard');
const path = require('node:path');
const { generateRoutes } = require('./lib/variants');
const { median } = require('./lib/stats');

const dist = path.join(__dirname, '..', 'dist');
require('reflect-metadata');
const { RouteTable } = require(path.join(dist, 'routing', 'route-table.js'));
const { validateGatewayConfig } = require(path.join(dist, 'config', 'config-validator.js'));

/** Route settings exactly as the gateway builds them: through the config validator. */
function routeSettings(count) {
  const config = validateGatewayConfig({
    upstreams: { bench: { targets: ['http://127.0.0.1:9'] } },
    routes: generateRoutes(count),
  });
  return { routes: config.routes, managementPrefix: config.server.managementPrefix };
}

function request(method, p) {
  return { method, path: p, host: '127.0.0.1:8080', headers: { host: '127.0.0.1:8080', accept: '*/*' } };
}

/** Requests that match the same routes in both tables: static, :param, nested, `*`, 405, 404. */
function requestsFor(services) {
  const [a, b, c] = services;
  return [
    request('GET', `/api/s${a}/items`),
    request('GET', `/api/s${a}/items/42`),
    request('GET', `/api/s${b}/items/42/history`),
    request('GET', `/api/s${a}/files/reports/2026/q3.pdf`),
    request('PUT', `/api/s${c}/items/7`),
    request('DELETE', `/api/s${b}/items/42/history`),
    request('GET', '/api/unknown/path'),
  ];
}

function describe(m) {
  return m.kind === 'route' ? `${m.route.id} -> ${m.upstreamPath}` : m.kind;
}

function measure(table, requests, iterations) {
  const n = requests.length;
  let sink = 0;
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < iterations; i++) {
    const m = table.match(requests[i % n]);
    sink += m.kind.length;
  }
  const ns = Number(process.hrtime.bigint() - t0);
  if (sink === 0) throw new Error('unreachable');
  return ns / iterations;
}

function main() {
  const opts = JSON.parse(process.argv[2] || '{}');
  const iterations = opts.iterations || 1_000_000;
  const rounds = opts.rounds || 7;

  const small = routeSettings(10);
  const large = routeSettings(10_000);
  const t10 = new RouteTable(small.routes, small.managementPrefix);
  const t10k = new RouteTable(large.routes, large.managementPrefix);
  // Services 0-2 exist in both tables (the 10-route table ends in s2-item).
  const same = requestsFor([1, 0, 2]);
  // Requests of the same shapes spread over the 10k table (only meaningful there).
  const spread = requestsFor([1234, 2499, 613]);

  const check = same.map((r) => [describe(t10.match(r)), describe(t10k.match(r))]);
  for (const [a, b] of check) if (a !== b) throw new Error(`tables disagree: ${a} vs ${b}`);

  const cases = [
    { name: '10 routes', table: t10, requests: same },
    { name: '10,000 routes', table: t10k, requests: same },
    { name: '10,000 routes, requests spread over the table', table: t10k, requests: spread },
  ];
  // Warm-up: let V8 optimise match() with every table in play.
  for (const c of cases) measure(c.table, c.requests, Math.min(iterations, 200_000));
  const samples = cases.map(() => []);
  for (let r = 0; r < rounds; r++) {
    // Alternate the order every round, so neither table always runs first.
    const order = r % 2 === 0 ? [0, 1, 2] : [2, 1, 0];
    for (const i of order) samples[i].push(measure(cases[i].table, cases[i].requests, iterations));
  }
  const results = cases.map((c, i) => ({ name: c.name, routes: c.table.routes.length, nsPerOp: median(samples[i]), samples: samples[i] }));
  process.stdout.write(
    `${JSON.stringify({
      iterations,
      rounds,
      requests: same.map((r, i) => ({ method: r.method, path: r.path, match: check[i][0] })),
      results,
      ratio10kTo10: results[1].nsPerOp / results[0].nsPerOp,
      ratio10kSpreadTo10: results[2].nsPerOp / results[0].nsPerOp,
    })}\n`,
  );
}

main();
