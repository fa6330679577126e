import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { ServerResponse } from 'node:http';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { RunningGateway } from '../../src/bootstrap';
import { startTestGateway } from '../support/gateway-fixture';
import { call, type TestResponse } from '../support/http';
import { closedPort, startUpstream, type UpstreamFixture } from '../support/upstream-fixture';
import { waitFor } from '../support/wait-for';

/*
 * docs/operations.md "Management endpoints" `GET /_gateway/metrics`: Prometheus text with the stable metric names, after a
 * scripted sequence of requests whose every outcome is known, so counters are checked for
 * exact values. The exposition is read with a strict parser of the text format (0.0.4) written
 * here: there is no Prometheus parser among the dependencies.
 */

// ---------------------------------------------------------------------------------------------
// A strict parser of the Prometheus text exposition format 0.0.4
// (https://prometheus.io/docs/instrumenting/exposition_formats/#text-based-format).

type MetricType = 'counter' | 'gauge' | 'histogram' | 'summary' | 'untyped';

interface Sample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

interface Family {
  readonly name: string;
  type: MetricType;
  help: string | null;
  readonly samples: Sample[];
}

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const FLOAT = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;
const TYPES: readonly MetricType[] = ['counter', 'gauge', 'histogram', 'summary', 'untyped'];

class ExpositionError extends Error {
  constructor(lineNumber: number, line: string, problem: string) {
    super(`line ${lineNumber}: ${problem}: ${JSON.stringify(line)}`);
  }
}

/** A sample value as Go's strconv.ParseFloat reads it (the format's definition): NaN and Inf in any case. */
function parseValue(text: string): number | null {
  if (/^[+]?inf(inity)?$/i.test(text)) return Infinity;
  if (/^-inf(inity)?$/i.test(text)) return -Infinity;
  if (/^nan$/i.test(text)) return NaN;
  return FLOAT.test(text) ? Number(text) : null;
}

function unescapeHelp(text: string): string {
  return text.replace(/\\(\\|n)/g, (_m, c: string) => (c === 'n' ? '\n' : '\\'));
}

/** Reads `{name="value",...}` from `line` at `start` (the `{`); returns the labels and the index after `}`. */
function parseLabels(line: string, start: number, fail: (problem: string) => never): { labels: Record<string, string>; end: number } {
  const labels: Record<string, string> = {};
  let i = start + 1;
  for (;;) {
    if (line[i] === '}') return { labels, end: i + 1 };
    const nameMatch = /^[a-zA-Z_][a-zA-Z0-9_]*/.exec(line.slice(i));
    if (!nameMatch) fail('bad label name');
    const name = nameMatch[0];
    i += name.length;
    if (line[i] !== '=' || line[i + 1] !== '"') fail(`label ${name} is not followed by ="`);
    i += 2;
    let value = '';
    for (;;) {
      const c = line[i];
      if (c === undefined) fail(`unterminated value of label ${name}`);
      if (c === '"') break;
      if (c === '\\') {
        const next = line[i + 1];
        if (next === '\\') value += '\\';
        else if (next === '"') value += '"';
        else if (next === 'n') value += '\n';
        else fail(`bad escape \\${next ?? ''} in label ${name}`);
        i += 2;
        continue;
      }
      value += c;
      i++;
    }
    i++;
    if (name in labels) fail(`label ${name} given twice`);
    labels[name] = value;
    if (line[i] === ',') i++;
    else if (line[i] !== '}') fail(`expected , or } after label ${name}`);
  }
}

/** The family a sample name belongs to, given the families declared so far. */
function familyOf(sampleName: string, families: ReadonlyMap<string, Family>): Family | undefined {
  const exact = families.get(sampleName);
  if (exact && exact.type !== 'histogram') return exact;
  for (const suffix of ['_bucket', '_sum', '_count']) {
    if (!sampleName.endsWith(suffix)) continue;
    const family = families.get(sampleName.slice(0, -suffix.length));
    if (family && (family.type === 'histogram' || (family.type === 'summary' && suffix !== '_bucket'))) return family;
  }
  return undefined;
}

/**
 * Parses an exposition strictly: every line is a HELP, a TYPE, another comment, blank, or a
 * sample of a family whose TYPE came before it; a family's lines are contiguous; no series is
 * given twice; histograms have cumulative buckets ending in +Inf equal to their _count.
 */
function parseExposition(text: string): Map<string, Family> {
  const families = new Map<string, Family>();
  const seriesSeen = new Set<string>();
  const closed = new Set<string>();
  let current: Family | null = null;
  if (text.length > 0 && !text.endsWith('\n')) throw new Error('the exposition does not end with a newline');
  const lines = text.split('\n');
  lines.pop();
  lines.forEach((line, index) => {
    const lineNumber = index + 1;
    const fail = (problem: string): never => {
      throw new ExpositionError(lineNumber, line, problem);
    };
    const enter = (family: Family): void => {
      if (current === family) return;
      if (closed.has(family.name)) fail(`lines of family ${family.name} are not contiguous`);
      if (current) closed.add(current.name);
      current = family;
    };
    if (line.trim() === '') return;
    if (line.startsWith('#')) {
      const meta = /^#\s+(HELP|TYPE)\s+(\S+)(?:\s(.*))?$/.exec(line);
      if (!meta) return; // a plain comment
      const [, keyword, name, rest = ''] = meta;
      if (!METRIC_NAME.test(name)) fail('bad metric name');
      let family = families.get(name);
      if (!family) {
        family = { name, type: 'untyped', help: null, samples: [] };
        families.set(name, family);
      }
      enter(family);
      if (keyword === 'HELP') {
        if (family.help !== null) fail(`second HELP for ${name}`);
        family.help = unescapeHelp(rest);
      } else {
        if (family.samples.length > 0) fail(`TYPE for ${name} after its samples`);
        if (!TYPES.includes(rest.trim() as MetricType)) fail(`unknown type ${rest}`);
        if (family.type !== 'untyped') fail(`second TYPE for ${name}`);
        family.type = rest.trim() as MetricType;
      }
      return;
    }
    const nameMatch = /^[a-zA-Z_:][a-zA-Z0-9_:]*/.exec(line);
    if (!nameMatch) fail('not a sample, a comment or a blank line');
    const name = nameMatch![0];
    let rest = name.length;
    let labels: Record<string, string> = {};
    if (line[rest] === '{') ({ labels, end: rest } = parseLabels(line, rest, fail));
    const tail = line.slice(rest);
    const valueMatch = /^[ \t]+(\S+)(?:[ \t]+(-?\d+))?[ \t]*$/.exec(tail);
    if (!valueMatch) fail('no value after the series');
    const value = parseValue(valueMatch![1]);
    if (value === null) fail(`bad value ${valueMatch![1]}`);
    const family = familyOf(name, families);
    if (!family || family.type === 'untyped') fail(`sample ${name} belongs to no declared family`);
    enter(family!);
    for (const label of Object.keys(labels)) if (!LABEL_NAME.test(label)) fail(`bad label name ${label}`);
    if (family!.type === 'histogram' && name.endsWith('_bucket') && !('le' in labels)) fail('histogram bucket without le');
    const key = `${name}${JSON.stringify(Object.entries(labels).sort(([a], [b]) => a.localeCompare(b)))}`;
    if (seriesSeen.has(key)) fail('series given twice');
    seriesSeen.add(key);
    family!.samples.push({ name, labels, value: value! });
  });
  for (const family of families.values()) {
    if (family.type === 'untyped' && family.samples.length > 0) throw new Error(`family ${family.name} has samples but no TYPE`);
    if (family.type === 'histogram') checkHistogram(family);
  }
  return families;
}

function withoutLabel(labels: Readonly<Record<string, string>>, drop: string): string {
  return JSON.stringify(Object.entries(labels).filter(([k]) => k !== drop).sort(([a], [b]) => a.localeCompare(b)));
}

function checkHistogram(family: Family): void {
  const series = new Map<string, Array<{ le: number; value: number }>>();
  for (const s of family.samples.filter((x) => x.name === `${family.name}_bucket`)) {
    const key = withoutLabel(s.labels, 'le');
    const le = parseValue(s.labels.le);
    if (le === null || Number.isNaN(le)) throw new Error(`${family.name}: bad le ${s.labels.le}`);
    series.set(key, [...(series.get(key) ?? []), { le, value: s.value }]);
  }
  for (const [key, buckets] of series) {
    buckets.sort((a, b) => a.le - b.le);
    for (let i = 1; i < buckets.length; i++) {
      if (buckets[i].value < buckets[i - 1].value) throw new Error(`${family.name}${key}: buckets are not cumulative`);
    }
    const last = buckets[buckets.length - 1];
    if (last.le !== Infinity) throw new Error(`${family.name}${key}: no +Inf bucket`);
    const count = family.samples.find((s) => s.name === `${family.name}_count` && withoutLabel(s.labels, '') === key);
    const sum = family.samples.find((s) => s.name === `${family.name}_sum` && withoutLabel(s.labels, '') === key);
    if (!count || !sum) throw new Error(`${family.name}${key}: _count or _sum missing`);
    if (count.value !== last.value) throw new Error(`${family.name}${key}: +Inf bucket ${last.value} != _count ${count.value}`);
  }
}

/** One scrape, parsed, with look-ups by name and labels. */
class Scrape {
  readonly families: Map<string, Family>;

  constructor(readonly text: string) {
    this.families = parseExposition(text);
  }

  family(name: string): Family {
    const family = this.families.get(name);
    if (!family) throw new Error(`no metric family ${name} in the exposition`);
    return family;
  }

  /** Samples called `sampleName` whose labels include every one of `labels`. */
  samples(sampleName: string, labels: Readonly<Record<string, string>> = {}): Sample[] {
    const all = [...this.families.values()].flatMap((f) => f.samples);
    return all.filter((s) => s.name === sampleName && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
  }

  /** The value of exactly one series, or 0 when it is absent (a counter or histogram never incremented). */
  value(sampleName: string, labels: Readonly<Record<string, string>>): number {
    const found = this.samples(sampleName, labels);
    if (found.length > 1) throw new Error(`${sampleName}${JSON.stringify(labels)} matches ${found.length} series`);
    return found.length === 1 ? found[0].value : 0;
  }
}

// ---------------------------------------------------------------------------------------------

describe('the exposition parser used below', () => {
  it('reads what prom-client writes, escapes included', async () => {
    const registry = new Registry();
    new Counter({ name: 't_total', help: 'with "quotes", a \\ and a\nnewline', labelNames: ['a', 'b'], registers: [registry] }).inc(
      { a: 'q"uo\\te\nd', b: '/x' },
      3,
    );
    new Gauge({ name: 't_gauge', help: 'g', registers: [registry] }).set(-1.5);
    const histogram = new Histogram({ name: 't_seconds', help: 'h', labelNames: ['r'], buckets: [0.1, 1], registers: [registry] });
    histogram.observe({ r: 'x' }, 0.5);
    histogram.observe({ r: 'x' }, 5);
    const scrape = new Scrape(await registry.metrics());
    expect(scrape.family('t_total')).toMatchObject({ type: 'counter', help: 'with "quotes", a \\ and a\nnewline' });
    expect(scrape.value('t_total', { a: 'q"uo\\te\nd', b: '/x' })).toBe(3);
    expect(scrape.value('t_gauge', {})).toBe(-1.5);
    expect(scrape.value('t_seconds_bucket', { r: 'x', le: '0.1' })).toBe(0);
    expect(scrape.value('t_seconds_bucket', { r: 'x', le: '1' })).toBe(1);
    expect(scrape.value('t_seconds_bucket', { r: 'x', le: '+Inf' })).toBe(2);
    expect(scrape.value('t_seconds_count', { r: 'x' })).toBe(2);
    expect(scrape.value('t_seconds_sum', { r: 'x' })).toBe(5.5);
  });

  it.each<[string, string]>([
    ['a sample without TYPE', 'a_total 1\n'],
    ['a sample of another family', '# TYPE a counter\nb 1\n'],
    ['a bad value', '# TYPE a counter\na one\n'],
    ['a signed NaN', '# TYPE a gauge\na -NaN\n'],
    ['a missing value', '# TYPE a counter\na{x="1"}\n'],
    ['an unterminated label value', '# TYPE a counter\na{x="1} 1\n'],
    ['a bad escape', '# TYPE a counter\na{x="\\t"} 1\n'],
    ['a label given twice', '# TYPE a counter\na{x="1",x="2"} 1\n'],
    ['a series given twice', '# TYPE a counter\na{x="1"} 1\na{x="1"} 2\n'],
    ['an unknown type', '# TYPE a countr\na 1\n'],
    ['TYPE after samples', '# TYPE a counter\na 1\n# TYPE a counter\n'],
    ['interleaved families', '# TYPE a counter\na 1\n# TYPE b gauge\nb 1\na{x="2"} 1\n'],
    ['a histogram without +Inf', '# TYPE h histogram\nh_bucket{le="1"} 1\nh_sum 1\nh_count 1\n'],
    ['a histogram whose buckets go down', '# TYPE h histogram\nh_bucket{le="1"} 2\nh_bucket{le="+Inf"} 1\nh_sum 1\nh_count 1\n'],
    ['a histogram whose count differs from +Inf', '# TYPE h histogram\nh_bucket{le="+Inf"} 2\nh_sum 1\nh_count 1\n'],
    ['no final newline', '# TYPE a counter\na 1'],
    ['a line that is nothing', '# TYPE a counter\n{x="1"} 1\n'],
  ])('rejects %s', (_name, text) => {
    expect(() => parseExposition(text)).toThrow();
  });
});

// ---------------------------------------------------------------------------------------------

/** In every requested path; letters first, so it can never turn up inside a number. */
const RUN = `run${randomBytes(4).toString('hex')}`;
const ROUTES = ['ok', 'closed', 'slow', 'limited'];
const TIMEOUT_MS = 300;
const REJECTED = 3;
/** Bounded polling of the metrics endpoint for a state the gateway reaches asynchronously. */
const POLL_LIMIT_MS = 10_000;
/** How long a test waits for a request to reach the holding upstream before it fails. */
const ARRIVAL_TIMEOUT_MS = 10_000;

/** An upstream that holds each request until released; once released, it answers at once. */
interface HoldingUpstream {
  readonly fixture: UpstreamFixture;
  /** Resolves once a request for `url` has arrived. */
  arrival(url: string): Promise<void>;
  release(): void;
}

async function holdingUpstream(): Promise<HoldingUpstream> {
  const events = new EventEmitter();
  events.setMaxListeners(0);
  const arrived = new Set<string>();
  const open = new Set<ServerResponse>();
  let released = false;
  const answer = (res: ServerResponse): void => {
    if (!res.headersSent && !res.destroyed) res.writeHead(200, { 'content-type': 'text/plain' }).end('answered');
  };
  const fixture = await startUpstream((req, res) => {
    req.resume();
    arrived.add(req.url ?? '');
    if (released) answer(res);
    else {
      open.add(res);
      res.once('close', () => open.delete(res));
    }
    events.emit('change');
  });
  return {
    fixture,
    arrival: (url) => waitFor(events, () => arrived.has(url), `a request for ${url} to arrive`, ARRIVAL_TIMEOUT_MS),
    release: () => {
      released = true;
      for (const res of open) answer(res);
    },
  };
}

describe('GET /_gateway/metrics after a scripted sequence (docs/operations.md "Management endpoints")', () => {
  let echo: UpstreamFixture;
  let holding: HoldingUpstream;
  let closedUrl: string;
  /** The `upstreams` section of the gateway's config. */
  let upstreams: Record<string, { targets: string[]; concurrency?: { limit: number } }>;
  let gateway: RunningGateway;
  /** Every path requested through the gateway, to check none became a label value. */
  const requestedPaths: string[] = [];
  const statuses: Record<string, number> = {};
  let metricsResponse: TestResponse;
  let whileHeld: Scrape;
  let after: Scrape;

  async function get(path: string, method: 'GET' | 'POST' = 'GET'): Promise<TestResponse> {
    requestedPaths.push(path);
    const res = await call(`${gateway.url}${path}`, { method, body: method === 'POST' ? 'x' : undefined });
    statuses[`${method} ${path}`] = res.status;
    return res;
  }

  async function scrape(): Promise<Scrape> {
    const res = await call(`${gateway.url}/_gateway/metrics`);
    expect(res.status).toBe(200);
    return new Scrape(res.text);
  }

  /** Scrapes until `predicate` holds (bounded); the gateway releases permits when each response closes. */
  async function scrapeUntil(predicate: (s: Scrape) => boolean, what: string): Promise<Scrape> {
    const deadline = Date.now() + POLL_LIMIT_MS;
    for (;;) {
      const s = await scrape();
      if (predicate(s)) return s;
      if (Date.now() > deadline) throw new Error(`metrics never showed ${what}; last scrape:\n${s.text}`);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }

  const permits = (s: Scrape, metric: string, scope: string, name: string): number => s.value(metric, { scope, name });

  beforeAll(async () => {
    echo = await startUpstream();
    holding = await holdingUpstream();
    closedUrl = `http://127.0.0.1:${await closedPort()}`;
    upstreams = {
      ok: { targets: [echo.url] },
      closed: { targets: [closedUrl] },
      slow: { targets: [holding.fixture.url] },
      held: { targets: [holding.fixture.url], concurrency: { limit: 10 } },
      // No route uses it: its targets are reported all the same.
      pair: { targets: [echo.url, `${holding.fixture.url}/v2`] },
    };
    gateway = await startTestGateway({
      upstreams,
      routes: [
        { id: 'ok', path: '/ok/:id', methods: ['GET', 'HEAD'], upstream: 'ok' },
        { id: 'closed', path: '/closed/*', upstream: 'closed' },
        { id: 'slow', path: '/slow/*', upstream: 'slow', timeoutMs: TIMEOUT_MS },
        { id: 'limited', path: '/limited/*', upstream: 'held', concurrency: { limit: 2, queue: 1, queueTimeoutMs: 20_000 } },
      ],
    });

    // 3x 200, 2x 404, 1x 405, 1x 502 (refused), 1x 504 (timeout)
    for (const id of ['1', '2', `three-${RUN}`]) await get(`/ok/${id}`);
    await get(`/nowhere-${RUN}/a`);
    await get(`/nowhere-${RUN}/b?token=${RUN}`);
    await get('/ok/1', 'POST');
    await get(`/closed/refused-${RUN}`);
    await get(`/slow/timeout-${RUN}`);

    // Two requests hold both permits of route "limited", a third waits in its queue.
    const held = [get(`/limited/held-1-${RUN}`), get(`/limited/held-2-${RUN}`)];
    await holding.arrival(`/limited/held-1-${RUN}`);
    await holding.arrival(`/limited/held-2-${RUN}`);
    const queued = get(`/limited/queued-${RUN}`);
    whileHeld = await scrapeUntil((s) => permits(s, 'gateway_permits_queued', 'route', 'limited') === 1, 'one request queued on route "limited"');
    // Permits and queue full: the next ones are refused at once.
    for (let i = 0; i < REJECTED; i++) await get(`/limited/rejected-${i}-${RUN}`);
    holding.release();
    await Promise.all([...held, queued]);

    after = await scrapeUntil(
      (s) =>
        permits(s, 'gateway_permits_in_use', 'route', 'limited') === 0 &&
        permits(s, 'gateway_permits_in_use', 'upstream', 'held') === 0 &&
        s.value('gateway_requests_total', { route: 'limited', status_class: '2xx' }) === 3,
      'every permit of "limited" given back and its three requests counted',
    );
    metricsResponse = await call(`${gateway.url}/_gateway/metrics`);
  });

  afterAll(async () => {
    holding.release();
    await holding.fixture.close();
    await echo.close();
    await gateway.close();
  });

  it('the scripted requests got the statuses the counts below rely on', () => {
    expect(statuses).toEqual({
      'GET /ok/1': 200,
      'GET /ok/2': 200,
      [`GET /ok/three-${RUN}`]: 200,
      [`GET /nowhere-${RUN}/a`]: 404,
      [`GET /nowhere-${RUN}/b?token=${RUN}`]: 404,
      'POST /ok/1': 405,
      [`GET /closed/refused-${RUN}`]: 502,
      [`GET /slow/timeout-${RUN}`]: 504,
      [`GET /limited/held-1-${RUN}`]: 200,
      [`GET /limited/held-2-${RUN}`]: 200,
      [`GET /limited/queued-${RUN}`]: 200,
      ...Object.fromEntries(Array.from({ length: REJECTED }, (_, i) => [`GET /limited/rejected-${i}-${RUN}`, 429])),
    });
  });

  it('is Prometheus text, not cached', () => {
    expect(metricsResponse.status).toBe(200);
    expect(metricsResponse.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4(; charset=utf-8)?$/);
    expect(metricsResponse.headers['cache-control']).toBe('no-store');
    expect(() => parseExposition(metricsResponse.text)).not.toThrow();
  });

  it('declares every documented metric with its type and a help text', () => {
    const expected: Record<string, MetricType> = {
      gateway_requests_total: 'counter',
      gateway_request_duration_seconds: 'histogram',
      gateway_upstream_duration_seconds: 'histogram',
      gateway_upstream_errors_total: 'counter',
      gateway_permits_in_use: 'gauge',
      gateway_permits_queued: 'gauge',
      gateway_queue_wait_seconds: 'histogram',
      gateway_rejections_total: 'counter',
      gateway_upstream_target_healthy: 'gauge',
      gateway_config_reloads_total: 'counter',
    };
    for (const [name, type] of Object.entries(expected)) {
      const family = after.family(name);
      expect({ name, type: family.type }).toEqual({ name, type });
      expect(family.help?.length ?? 0).toBeGreaterThan(0);
    }
  });

  it('gateway_requests_total counts every request by route, method, status class and code, and nothing else', () => {
    const series = after
      .samples('gateway_requests_total')
      // The scrapes themselves (management endpoints, no route) are left out: the test made many.
      .filter((s) => !(s.labels.route === '' && s.labels.status_class === '2xx'))
      .map((s) => ({ ...s.labels, value: s.value }))
      .sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));
    const expected = [
      { route: 'ok', method: 'GET', status_class: '2xx', code: '', value: 3 },
      { route: '', method: 'GET', status_class: '4xx', code: 'no_route', value: 2 },
      { route: '', method: 'POST', status_class: '4xx', code: 'method_not_allowed', value: 1 },
      { route: 'closed', method: 'GET', status_class: '5xx', code: 'upstream_unreachable', value: 1 },
      { route: 'slow', method: 'GET', status_class: '5xx', code: 'upstream_timeout', value: 1 },
      { route: 'limited', method: 'GET', status_class: '2xx', code: '', value: 3 },
      { route: 'limited', method: 'GET', status_class: '4xx', code: 'concurrency_limit', value: REJECTED },
    ].sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));
    expect(series).toEqual(expected);
  });

  it('gateway_upstream_errors_total: refused for the closed port, timeout for the 504, nothing else', () => {
    const series = after.samples('gateway_upstream_errors_total').map((s) => ({ ...s.labels, value: s.value }));
    expect(series).toHaveLength(2);
    expect(series).toEqual(
      expect.arrayContaining([
        { upstream: 'closed', kind: 'refused', value: 1 },
        { upstream: 'slow', kind: 'timeout', value: 1 },
      ]),
    );
  });

  it('gateway_rejections_total counts the concurrency_limit refusals of the route', () => {
    expect(after.samples('gateway_rejections_total').map((s) => ({ ...s.labels, value: s.value }))).toEqual([
      { route: 'limited', code: 'concurrency_limit', value: REJECTED },
    ]);
  });

  it('gateway_request_duration_seconds has one observation per request of each route', () => {
    expect(after.value('gateway_request_duration_seconds_count', { route: 'ok' })).toBe(3);
    expect(after.value('gateway_request_duration_seconds_count', { route: 'closed' })).toBe(1);
    expect(after.value('gateway_request_duration_seconds_count', { route: 'slow' })).toBe(1);
    expect(after.value('gateway_request_duration_seconds_count', { route: 'limited' })).toBe(3 + REJECTED);
    // The 504 took at least the route's timeout.
    expect(after.value('gateway_request_duration_seconds_sum', { route: 'slow' })).toBeGreaterThanOrEqual((TIMEOUT_MS - 5) / 1000);
    expect(after.value('gateway_request_duration_seconds_bucket', { route: 'slow', le: '0.25' })).toBe(0);
  });

  it('gateway_upstream_duration_seconds has one observation per upstream response, none for failed calls', () => {
    expect(after.value('gateway_upstream_duration_seconds_count', { upstream: 'ok' })).toBe(3);
    expect(after.value('gateway_upstream_duration_seconds_count', { upstream: 'held' })).toBe(3);
    expect(after.value('gateway_upstream_duration_seconds_count', { upstream: 'closed' })).toBe(0);
    expect(after.value('gateway_upstream_duration_seconds_count', { upstream: 'slow' })).toBe(0);
  });

  it('gateway_permits_in_use and gateway_permits_queued show held and queued requests per route and upstream', () => {
    expect(permits(whileHeld, 'gateway_permits_in_use', 'route', 'limited')).toBe(2);
    expect(permits(whileHeld, 'gateway_permits_queued', 'route', 'limited')).toBe(1);
    expect(permits(whileHeld, 'gateway_permits_in_use', 'upstream', 'held')).toBe(2);
    expect(permits(whileHeld, 'gateway_permits_queued', 'upstream', 'held')).toBe(0);
  });

  it('gateway_permits_in_use and gateway_permits_queued are back to 0 afterwards', () => {
    for (const [scope, name] of [
      ['route', 'limited'],
      ['upstream', 'held'],
    ]) {
      expect(after.samples('gateway_permits_in_use', { scope, name })).toHaveLength(1);
      expect(after.samples('gateway_permits_queued', { scope, name })).toHaveLength(1);
      expect(permits(after, 'gateway_permits_in_use', scope, name)).toBe(0);
      expect(permits(after, 'gateway_permits_queued', scope, name)).toBe(0);
    }
    // Only pools that exist are reported.
    expect(after.samples('gateway_permits_in_use').map((s) => `${s.labels.scope}/${s.labels.name}`).sort()).toEqual(['route/limited', 'upstream/held']);
  });

  it('gateway_queue_wait_seconds observed the request that waited in the queue', () => {
    expect(after.value('gateway_queue_wait_seconds_count', { scope: 'route', name: 'limited' })).toBeGreaterThanOrEqual(1);
  });

  it('gateway_queue_wait_seconds counts only requests that waited in a queue', () => {
    // One request queued on the route. The 429s were refused at once (queue full) and never
    // queued; the queued request then found the upstream's permits free: no wait there either.
    expect(after.value('gateway_queue_wait_seconds_count', { scope: 'route', name: 'limited' })).toBe(1);
    expect(after.value('gateway_queue_wait_seconds_count', { scope: 'upstream', name: 'held' })).toBe(0);
  });

  it('gateway_upstream_target_healthy has one series per configured target of every upstream, labelled with both, at 1 (no health checks yet)', () => {
    // There is no health checking yet, so every target is reported healthy (1), the closed port
    // included. Real 0/1 transitions are tested with the health-check feature.
    const bySeries = (a: Record<string, unknown>, b: Record<string, unknown>): number => JSON.stringify(a).localeCompare(JSON.stringify(b));
    const expected = Object.entries(upstreams)
      .flatMap(([upstream, { targets }]) => targets.map((target) => ({ upstream, target, value: 1 })))
      .sort(bySeries);
    expect(expected).toHaveLength(6);
    const series = after.samples('gateway_upstream_target_healthy').map((s) => ({ ...s.labels, value: s.value }));
    expect(series.sort(bySeries)).toEqual(expected);
  });

  it('the default process metrics are there', () => {
    expect(after.family('process_cpu_user_seconds_total').type).toBe('counter');
    expect(after.value('process_cpu_user_seconds_total', {})).toBeGreaterThan(0);
    expect(after.family('process_resident_memory_bytes').type).toBe('gauge');
    expect(after.samples('nodejs_heap_size_used_bytes')).toHaveLength(1);
  });

  it('no raw path is used as a label value', () => {
    const routeLabels = new Set<string>();
    for (const family of after.families.values()) {
      if (!family.name.startsWith('gateway_')) continue;
      for (const s of family.samples) {
        if ('route' in s.labels) routeLabels.add(s.labels.route);
        for (const [label, value] of Object.entries(s.labels)) {
          // Target URLs are configuration, not request data.
          if (label !== 'target') expect({ label, value, slash: value.includes('/') }).toEqual({ label, value, slash: false });
        }
      }
    }
    // Every route label is a route id (or '' for requests that matched none), and each one shows up.
    expect([...routeLabels].sort()).toEqual(['', ...ROUTES].sort());
    for (const path of requestedPaths) expect(after.text).not.toContain(path);
    // Nothing of any request line reached the exposition.
    expect(after.text).not.toContain(RUN);
  });
});
