import 'reflect-metadata';
import { parse } from 'yaml';
import { ConfigError } from './config-error';
import { CONFIG_DEFAULTS } from './config-resolver';
import { validateGatewayConfig } from './config-validator';
import type { GatewayConfig } from './gateway-config.types';

/** The example of docs/configuration.md "Config file reference", verbatim. */
const DOCUMENTED_EXAMPLE = `
server:
  bodyLimitBytes: 10485760          # request bodies above this get 413; default 10 MiB
  trustProxy: false                 # true: keep the client's X-Forwarded-For chain
  managementPrefix: /_gateway       # reserved; never proxied

defaults:                           # applied to every route that does not say otherwise
  timeoutMs: 30000

upstreams:
  users:
    targets: [http://127.0.0.1:3001, http://127.0.0.1:3002]   # one or more base URLs
    loadBalancing: round-robin      # round-robin | least-request
    pool: { maxSockets: 100, maxIdleSockets: 100, idleTimeoutMs: 30000 }  # own keep-alive agent
    connectTimeoutMs: 1000
    concurrency: { limit: 50 }      # bulkhead for the whole upstream (optional)
    healthCheck: { path: /healthz, intervalMs: 5000, timeoutMs: 1000,
                   unhealthyThreshold: 3, healthyThreshold: 1 }        # optional
    preserveHost: false             # true: send the client's Host upstream

routes:
  - id: users-me                    # unique; appears in logs, metrics and errors
    path: /api/users/me
    upstream: users
  - id: users-read
    path: /api/users/:id            # :name params, \`*\` tail wildcard
    methods: [GET, HEAD]            # default: every method
    host: api.example.com           # optional; \`*.example.com\` allowed
    headers: { x-tenant: acme }     # optional exact-match predicates
    upstream: users
    rewrite: /v1/users/:id          # or \`stripPrefix: /api\`; query string always kept
    timeoutMs: 800                  # 504 when upstream headers take longer
    concurrency: { limit: 10, queue: 20, queueTimeoutMs: 200 }
    rateLimit: { limit: 100, windowMs: 1000, key: ip }   # key: ip | header:<name> | route
    retry: { attempts: 2 }          # idempotent methods only, on connect errors/502/503
    plugins:                        # run in this order before the upstream call (docs/plugins.md "Plugins")
      - name: api-key
        config: { header: x-api-key, keysFile: config/api-keys.yaml }
      - name: cors
        config: { origins: [https://app.example.com], credentials: true, maxAgeSeconds: 600 }
  - id: legacy
    pathRegex: ^/v[0-9]+/legacy/.*$ # regex routes are tried after path routes, in file order
    upstream: users
`;

type Raw = Record<string, unknown>;

function documentedExample(): Raw {
  return parse(DOCUMENTED_EXAMPLE) as Raw;
}

const USERS = { users: { targets: ['http://127.0.0.1:3001'] } };

function withRoutes(routes: unknown[], extra: Raw = {}): Raw {
  return { upstreams: USERS, routes, ...extra };
}

/** The problems reported for `raw` (each without the `config: ` prefix); fails if it validates. */
function problemsOf(raw: unknown): readonly string[] {
  try {
    validateGatewayConfig(raw);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    return error.problems;
  }
  throw new Error('expected the config to be rejected');
}

function isDeepFrozen(value: unknown, path = 'config'): string[] {
  if (typeof value !== 'object' || value === null) return [];
  const notFrozen = Object.isFrozen(value) ? [] : [path];
  for (const [key, child] of Object.entries(value)) notFrozen.push(...isDeepFrozen(child, `${path}.${key}`));
  return notFrozen;
}

describe('validateGatewayConfig', () => {
  describe('the docs/configuration.md "Config file reference" example', () => {
    let config: GatewayConfig;

    beforeAll(() => {
      config = validateGatewayConfig(documentedExample());
    });

    it('is accepted with every field carried over', () => {
      expect(config.server).toEqual({
        bodyLimitBytes: 10_485_760,
        trustProxy: false,
        managementPrefix: '/_gateway',
        pathEscapedSlashes: 'reject',
        rateLimitFailMode: 'open',
        headersTimeoutMs: 10_000,
        maxHeaderBytes: 16_384,
        bodyIdleTimeoutMs: 10_000,
      });
      expect(config.defaults).toEqual({ timeoutMs: 30_000, plugins: [] });
      expect(config.upstreams.users).toEqual({
        name: 'users',
        targets: ['http://127.0.0.1:3001', 'http://127.0.0.1:3002'],
        loadBalancing: 'round-robin',
        pool: { maxSockets: 100, maxIdleSockets: 100, idleTimeoutMs: 30_000 },
        connectTimeoutMs: 1000,
        concurrency: { limit: 50, queue: 0, queueTimeoutMs: CONFIG_DEFAULTS.queueTimeoutMs },
        healthCheck: { path: '/healthz', intervalMs: 5000, timeoutMs: 1000, unhealthyThreshold: 3, healthyThreshold: 1 },
        passiveHealth: { consecutiveFailures: 5, ejectMs: 30_000, maxEjectMs: 300_000 },
        preserveHost: false,
      });
      expect(config.routes.map((r) => r.id)).toEqual(['users-me', 'users-read', 'legacy']);
      expect(config.routes[1]).toEqual({
        id: 'users-read',
        path: '/api/users/:id',
        pathRegex: null,
        methods: ['GET', 'HEAD'],
        host: 'api.example.com',
        headers: { 'x-tenant': 'acme' },
        upstream: 'users',
        rewrite: '/v1/users/:id',
        stripPrefix: null,
        timeoutMs: 800,
        concurrency: { limit: 10, queue: 20, queueTimeoutMs: 200 },
        rateLimit: { limit: 100, windowMs: 1000, key: 'ip' },
        retry: { attempts: 2 },
        plugins: [
          { name: 'api-key', config: { header: 'x-api-key', keysFile: 'config/api-keys.yaml' } },
          { name: 'cors', config: { origins: ['https://app.example.com'], credentials: true, maxAgeSeconds: 600 } },
        ],
      });
      expect(config.routes[2].pathRegex).toBe('^/v[0-9]+/legacy/.*$');
      expect(config.routes[2].path).toBeNull();
    });

    it('applies defaults to routes that do not set a field', () => {
      expect(config.routes[0]).toEqual({
        id: 'users-me',
        path: '/api/users/me',
        pathRegex: null,
        methods: null,
        host: null,
        headers: {},
        upstream: 'users',
        rewrite: null,
        stripPrefix: null,
        timeoutMs: 30_000,
        concurrency: null,
        rateLimit: null,
        retry: null,
        plugins: [],
      });
    });

    it('is deeply frozen', () => {
      expect(isDeepFrozen(config)).toEqual([]);
      expect(Object.isFrozen(config.routes[1].methods)).toBe(true);
      expect(Object.isFrozen(config.upstreams.users.targets)).toBe(true);
      expect(() => {
        (config.routes as RouteList).push(config.routes[0]);
      }).toThrow(TypeError);
      expect(() => {
        (config.server as { trustProxy: boolean }).trustProxy = true;
      }).toThrow(TypeError);
      expect(config.server.trustProxy).toBe(false);
    });

    it('does not depend on the caller keeping its input unchanged', () => {
      const raw = documentedExample();
      const result = validateGatewayConfig(raw);
      ((raw.routes as Raw[])[0] as Raw).path = '/changed';
      expect(result.routes[0].path).toBe('/api/users/me');
    });
  });

  describe('defaults', () => {
    const minimal = { upstreams: USERS, routes: [{ id: 'r', path: '/r', upstream: 'users' }] };

    it('fills the server and defaults sections', () => {
      const config = validateGatewayConfig(minimal);
      expect(config.server).toEqual({
        bodyLimitBytes: 10 * 1024 * 1024,
        trustProxy: false,
        managementPrefix: '/_gateway',
        pathEscapedSlashes: 'reject',
        rateLimitFailMode: 'open',
        headersTimeoutMs: 10_000,
        maxHeaderBytes: 16_384,
        bodyIdleTimeoutMs: 10_000,
      });
      expect(config.defaults).toEqual({ timeoutMs: 30_000, plugins: [] });
    });

    it('fills an upstream', () => {
      const config = validateGatewayConfig(minimal);
      expect(config.upstreams.users).toEqual({
        name: 'users',
        targets: ['http://127.0.0.1:3001'],
        loadBalancing: 'round-robin',
        pool: { maxSockets: CONFIG_DEFAULTS.maxSockets, maxIdleSockets: CONFIG_DEFAULTS.maxSockets, idleTimeoutMs: CONFIG_DEFAULTS.idleTimeoutMs },
        connectTimeoutMs: CONFIG_DEFAULTS.connectTimeoutMs,
        concurrency: null,
        healthCheck: null,
        passiveHealth: { consecutiveFailures: 5, ejectMs: 30_000, maxEjectMs: 300_000 },
        preserveHost: false,
      });
    });

    it('sizes the idle pool like the pool when only maxSockets is set', () => {
      const config = validateGatewayConfig({ upstreams: { u: { targets: ['http://a'], pool: { maxSockets: 7 } } }, routes: [] });
      expect(config.upstreams.u.pool).toEqual({ maxSockets: 7, maxIdleSockets: 7, idleTimeoutMs: CONFIG_DEFAULTS.idleTimeoutMs });
    });

    it('fills a health check', () => {
      const config = validateGatewayConfig({ upstreams: { u: { targets: ['http://a'], healthCheck: { path: '/hz' } } }, routes: [] });
      expect(config.upstreams.u.healthCheck).toEqual({
        path: '/hz',
        intervalMs: CONFIG_DEFAULTS.healthIntervalMs,
        timeoutMs: CONFIG_DEFAULTS.healthTimeoutMs,
        unhealthyThreshold: 3,
        healthyThreshold: 1,
      });
    });

    it('gives routes defaults.timeoutMs unless they set their own', () => {
      const config = validateGatewayConfig({
        defaults: { timeoutMs: 1234 },
        upstreams: USERS,
        routes: [
          { id: 'a', path: '/a', upstream: 'users' },
          { id: 'b', path: '/b', upstream: 'users', timeoutMs: 50 },
        ],
      });
      expect(config.routes.map((r) => r.timeoutMs)).toEqual([1234, 50]);
    });

    it('defaults rateLimit.key to ip and accepts route, consumer and header:<name>', () => {
      const config = validateGatewayConfig(
        withRoutes([
          { id: 'a', path: '/a', upstream: 'users', rateLimit: { limit: 1, windowMs: 1000 } },
          { id: 'b', path: '/b', upstream: 'users', rateLimit: { limit: 1, windowMs: 1000, key: 'route' } },
          { id: 'c', path: '/c', upstream: 'users', rateLimit: { limit: 1, windowMs: 1000, key: 'header:x-api-key' } },
          { id: 'd', path: '/d', upstream: 'users', rateLimit: { limit: 1, windowMs: 1000, key: 'consumer' } },
        ]),
      );
      expect(config.routes.map((r) => r.rateLimit?.key)).toEqual(['ip', 'route', 'header:x-api-key', 'consumer']);
    });

    it('passiveHealth: defaults per field, 0 failures turns ejection off, maxEjectMs never below ejectMs', () => {
      const config = validateGatewayConfig({
        upstreams: {
          a: { targets: ['http://a'], passiveHealth: { consecutiveFailures: 0 } },
          b: { targets: ['http://b'], passiveHealth: { ejectMs: 600_000 } },
        },
        routes: [],
      });
      expect(config.upstreams.a.passiveHealth).toEqual({ consecutiveFailures: 0, ejectMs: 30_000, maxEjectMs: 300_000 });
      expect(config.upstreams.b.passiveHealth).toEqual({ consecutiveFailures: 5, ejectMs: 600_000, maxEjectMs: 600_000 });
      expect(() => validateGatewayConfig({ upstreams: { a: { targets: ['http://a'], passiveHealth: { ejectMs: 0 } } }, routes: [] })).toThrow(
        /upstreams\.a\.passiveHealth\.ejectMs/,
      );
    });

    it('server.rateLimitFailMode takes open or closed, and defaults to open', () => {
      expect(validateGatewayConfig(withRoutes([])).server.rateLimitFailMode).toBe('open');
      expect(() => validateGatewayConfig({ ...withRoutes([]), server: { rateLimitFailMode: 'maybe' } })).toThrow(/server\.rateLimitFailMode: .*open, closed/);
    });

    it.each([
      ['headersTimeoutMs', 99, 'headersTimeoutMs must not be less than 100'],
      ['headersTimeoutMs', 2 ** 31, 'headersTimeoutMs must not be greater than 2147483647'],
      ['headersTimeoutMs', 1000.5, 'headersTimeoutMs must be an integer number'],
      ['maxHeaderBytes', 1023, 'maxHeaderBytes must not be less than 1024'],
      ['maxHeaderBytes', 8 * 1024 * 1024 + 1, 'maxHeaderBytes must not be greater than 8388608'],
      ['maxHeaderBytes', '16384', 'maxHeaderBytes must be an integer number'],
      ['bodyIdleTimeoutMs', 0, 'bodyIdleTimeoutMs must not be less than 100'],
      ['bodyIdleTimeoutMs', 2 ** 31, 'bodyIdleTimeoutMs must not be greater than 2147483647'],
    ])('server.%s: %j is refused', (field, value, message) => {
      expect(problemsOf({ ...withRoutes([]), server: { [field]: value } })).toEqual([`server.${field}: ${message}`]);
    });

    it('server.headersTimeoutMs, maxHeaderBytes and bodyIdleTimeoutMs take their smallest values', () => {
      const config = validateGatewayConfig({ ...withRoutes([]), server: { headersTimeoutMs: 100, maxHeaderBytes: 1024, bodyIdleTimeoutMs: 100 } });
      expect(config.server).toMatchObject({ headersTimeoutMs: 100, maxHeaderBytes: 1024, bodyIdleTimeoutMs: 100 });
    });

    it('fills a route concurrency queue', () => {
      const config = validateGatewayConfig(withRoutes([{ id: 'a', path: '/a', upstream: 'users', concurrency: { limit: 3 } }]));
      expect(config.routes[0].concurrency).toEqual({ limit: 3, queue: 0, queueTimeoutMs: CONFIG_DEFAULTS.queueTimeoutMs });
    });

    it('drops trailing slashes from targets but keeps their base path', () => {
      const config = validateGatewayConfig({
        upstreams: { u: { targets: ['http://a.example.com:8080/', 'https://b.example.com/base/', 'http://c/v1'] } },
        routes: [],
      });
      expect(config.upstreams.u.targets).toEqual(['http://a.example.com:8080', 'https://b.example.com/base', 'http://c/v1']);
    });

    it('accepts a config with no routes', () => {
      expect(validateGatewayConfig({ upstreams: USERS, routes: [] }).routes).toEqual([]);
    });

    it('accepts host wildcards, least-request and a custom management prefix', () => {
      const config = validateGatewayConfig({
        server: {
          managementPrefix: '/_mgmt',
          trustProxy: true,
          bodyLimitBytes: 1,
          pathEscapedSlashes: 'keep',
          rateLimitFailMode: 'closed',
          headersTimeoutMs: 500,
          maxHeaderBytes: 65_536,
          bodyIdleTimeoutMs: 100,
        },
        upstreams: { u: { targets: ['http://a'], loadBalancing: 'least-request', preserveHost: true } },
        routes: [
          { id: 'a', path: '/_gateway/x', upstream: 'u', host: '*.example.com' },
          { id: 'b', path: '/b/*', upstream: 'u', rewrite: '/c/*', methods: ['GET', 'PURGE'] },
          { id: 'c', pathRegex: '^/v([0-9]+)/', upstream: 'u', rewrite: '/$1', stripPrefix: undefined },
        ],
      });
      expect(config.server).toEqual({
        bodyLimitBytes: 1,
        trustProxy: true,
        managementPrefix: '/_mgmt',
        pathEscapedSlashes: 'keep',
        rateLimitFailMode: 'closed',
        headersTimeoutMs: 500,
        maxHeaderBytes: 65_536,
        bodyIdleTimeoutMs: 100,
      });
      expect(config.upstreams.u.loadBalancing).toBe('least-request');
      expect(config.upstreams.u.preserveHost).toBe(true);
      expect(config.routes[0].host).toBe('*.example.com');
    });
  });

  describe('problems', () => {
    it('server.pathEscapedSlashes takes reject or keep only', () => {
      const raw = documentedExample();
      raw.server = { pathEscapedSlashes: 'decode' };
      expect(problemsOf(raw)).toEqual([expect.stringMatching(/^server\.pathEscapedSlashes: .*reject, keep/)]);
    });

    it('names the field, as in docs/configuration.md "Environment variables"', () => {
      const raw = documentedExample();
      (raw.routes as Raw[])[2].upstream = 'orders';
      expect(problemsOf(raw)).toEqual(['routes[2].upstream: "orders" is not a defined upstream']);
    });

    it('ConfigError.lines prefixes each problem with "config: " and the message holds every line', () => {
      let caught: unknown;
      try {
        validateGatewayConfig(
          withRoutes([
            { id: 'a', path: '/a', upstream: 'orders' },
            { id: 'a', path: '/b', upstream: 'users' },
          ]),
        );
      } catch (error) {
        caught = error;
      }
      expect(caught).toBeInstanceOf(ConfigError);
      const error = caught as ConfigError;
      expect(error.source).toBe('config');
      expect(error.lines).toEqual([
        'config: routes[0].upstream: "orders" is not a defined upstream',
        'config: routes[1].id: "a" is already used by routes[0]',
      ]);
      expect(error.message.split('\n')).toEqual(error.lines);
    });

    it('reports every problem at once', () => {
      const problems = problemsOf({
        server: { trustproxy: true },
        upstreams: {
          users: { targets: ['http://127.0.0.1:3001', 'ftp://x'] },
          cart: { targets: ['not a url'], tagrets: [] },
        },
        routes: [
          { id: 'a', path: '/a', upstream: 'users' },
          { id: 'a', path: '/b', upstream: 'users' },
          { id: 'c', path: '/c/:id', upstream: 'orders', rewrite: '/v1/:name' },
          { id: 'd', pathRegex: '^/v(', upstream: 'users' },
          { id: 'e', path: '/e', pathRegex: '^/e', upstream: 'users' },
          { id: 'f', path: '/f', upstream: 'users', rewrite: '/x', stripPrefix: '/f' },
          { id: 'g', path: '/g', upstream: 'users', methods: ['get'] },
          { id: 'h', path: '/h', upstream: 'users', rateLimit: { limit: 1, windowMs: 1, key: 'user' } },
          { id: 'i', path: '/_gateway/admin', upstream: 'users' },
          { id: 'j', path: '/j', upstrem: 'users' },
        ],
      });
      const expected = [
        'server.trustproxy: unknown field (check the spelling)',
        'upstreams.users.targets[1]: "ftp://x" must be an http:// or https:// URL',
        'upstreams.cart.tagrets: unknown field (check the spelling)',
        'upstreams.cart.targets[0]: "not a url" is not a valid URL',
        'routes[1].id: "a" is already used by routes[0]',
        'routes[2].upstream: "orders" is not a defined upstream',
        'routes[2].rewrite: ":name" is not a parameter of path "/c/:id"',
        expect.stringMatching(/^routes\[3\]\.pathRegex: not a valid regular expression/),
        'routes[4]: set exactly one of path and pathRegex',
        'routes[5]: set rewrite or stripPrefix, not both',
        'routes[6].methods: methods must hold upper-case HTTP method names',
        'routes[7].rateLimit.key: key must be ip, route, consumer or header:<lower-case name>',
        'routes[8].path: "/_gateway/admin" is under the reserved management prefix /_gateway',
        'routes[9].upstrem: unknown field (check the spelling)',
        expect.stringMatching(/^routes\[9\]\.upstream: /),
      ];
      for (const line of expected) expect(problems).toContainEqual(line);
      expect(problems).toHaveLength(expected.length);
    });

    it('reports an empty upstreams map together with the other problems', () => {
      const problems = problemsOf({ upstreams: {}, routes: [{ id: 'a', path: '/a', upstream: 'users', typo: 1 }] });
      expect(problems).toContain('upstreams: define at least one upstream');
      expect(problems).toContain('routes[0].typo: unknown field (check the spelling)');
    });

    it('rejects an empty upstreams map', () => {
      expect(problemsOf({ upstreams: {}, routes: [] })).toEqual(['upstreams: define at least one upstream']);
    });

    it.each([null, [], 'text', 42, undefined])('rejects a file that is not an object (%j)', (raw) => {
      expect(problemsOf(raw)).toEqual(['the file must hold an object with upstreams and routes']);
    });

    it('requires upstreams and routes', () => {
      const problems = problemsOf({});
      expect(problems.some((p) => p.startsWith('upstreams: '))).toBe(true);
      expect(problems.some((p) => p.startsWith('routes: '))).toBe(true);
    });

    describe('unknown keys (typos) name their path', () => {
      it.each<[string, Raw, string]>([
        ['top level', { upstreams: USERS, routes: [], route: [] }, 'route'],
        ['server', { server: { managementprefix: '/x' }, upstreams: USERS, routes: [] }, 'server.managementprefix'],
        ['defaults', { defaults: { timeout: 1 }, upstreams: USERS, routes: [] }, 'defaults.timeout'],
        ['upstream', { upstreams: { users: { targets: ['http://a'], loadbalancing: 'x' } }, routes: [] }, 'upstreams.users.loadbalancing'],
        ['upstream pool', { upstreams: { users: { targets: ['http://a'], pool: { maxSocket: 1 } } }, routes: [] }, 'upstreams.users.pool.maxSocket'],
        [
          'upstream health check',
          { upstreams: { users: { targets: ['http://a'], healthCheck: { path: '/h', interval: 1 } } }, routes: [] },
          'upstreams.users.healthCheck.interval',
        ],
        ['route', withRoutes([{ id: 'a', path: '/a', upstream: 'users', method: ['GET'] }]), 'routes[0].method'],
        [
          'route rate limit',
          withRoutes([{ id: 'a', path: '/a', upstream: 'users', rateLimit: { limit: 1, windowMs: 1, keys: 'ip' } }]),
          'routes[0].rateLimit.keys',
        ],
        [
          'route concurrency',
          withRoutes([{ id: 'a', path: '/a', upstream: 'users', concurrency: { limit: 1, queueTimeout: 1 } }]),
          'routes[0].concurrency.queueTimeout',
        ],
        ['route retry', withRoutes([{ id: 'a', path: '/a', upstream: 'users', retry: { attempts: 1, retries: 2 } }]), 'routes[0].retry.retries'],
      ])('%s', (_name, raw, path) => {
        expect(problemsOf(raw)).toContain(`${path}: unknown field (check the spelling)`);
      });
    });

    it('rejects duplicate route ids, naming the first use', () => {
      const problems = problemsOf(
        withRoutes([
          { id: 'x', path: '/a', upstream: 'users' },
          { id: 'y', path: '/b', upstream: 'users' },
          { id: 'x', path: '/c', upstream: 'users' },
          { id: 'x', path: '/d', upstream: 'users' },
        ]),
      );
      expect(problems).toEqual(['routes[2].id: "x" is already used by routes[0]', 'routes[3].id: "x" is already used by routes[0]']);
    });

    it.each([
      ['not a url', 'is not a valid URL'],
      ['127.0.0.1:3001', 'is not a valid URL'],
      ['localhost:3001', 'must be an http:// or https:// URL'],
      ['ftp://files.example.com', 'must be an http:// or https:// URL'],
      ['ws://a.example.com', 'must be an http:// or https:// URL'],
      ['http://a.example.com/?q=1', 'must not have a query or fragment'],
      ['http://a.example.com/#top', 'must not have a query or fragment'],
      ['http://user:secret@a.example.com', 'must not carry credentials'],
    ])('rejects the target URL %j', (target, message) => {
      expect(problemsOf({ upstreams: { users: { targets: ['http://ok', target] } }, routes: [] })).toEqual([
        `upstreams.users.targets[1]: "${target}" ${message}`,
      ]);
    });

    it('rejects bad upstream shapes', () => {
      const problems = problemsOf({
        upstreams: { 'bad name': { targets: ['http://a'] }, text: 'http://a', none: { targets: [] }, twice: { targets: ['http://a', 'http://a'] } },
        routes: [],
      });
      expect(problems).toEqual(
        expect.arrayContaining([
          'upstreams["bad name"]: upstream names are letters, digits, _ . -',
          'upstreams.text: must be an object with targets',
          expect.stringMatching(/^upstreams\.none\.targets: /),
          expect.stringMatching(/^upstreams\.twice\.targets: /),
        ]),
      );
    });

    it('rejects rewrite params the path lacks, and * without a * tail', () => {
      expect(problemsOf(withRoutes([{ id: 'a', path: '/a/:id', upstream: 'users', rewrite: '/v1/:name/:id/*' }]))).toEqual([
        'routes[0].rewrite: ":name" is not a parameter of path "/a/:id"',
        'routes[0].rewrite: uses * but path "/a/:id" has no * tail',
      ]);
    });

    it('accepts rewrites that only use the path’s params and tail', () => {
      expect(() =>
        validateGatewayConfig(withRoutes([{ id: 'a', path: '/a/:org/:id/*', upstream: 'users', rewrite: '/v1/:id/in/:org/*' }])),
      ).not.toThrow();
    });

    it('rejects an unparsable pathRegex', () => {
      const problems = problemsOf(withRoutes([{ id: 'a', pathRegex: '^/v([0-9]+', upstream: 'users' }, { id: 'b', pathRegex: '*x', upstream: 'users' }]));
      expect(problems).toHaveLength(2);
      expect(problems[0]).toMatch(/^routes\[0\]\.pathRegex: not a valid regular expression \(.+\)$/);
      expect(problems[1]).toMatch(/^routes\[1\]\.pathRegex: not a valid regular expression \(.+\)$/);
    });

    it('requires exactly one of path and pathRegex', () => {
      expect(
        problemsOf(
          withRoutes([
            { id: 'both', path: '/a', pathRegex: '^/a', upstream: 'users' },
            { id: 'neither', upstream: 'users' },
          ]),
        ),
      ).toEqual(['routes[0]: set exactly one of path and pathRegex', 'routes[1]: set exactly one of path and pathRegex']);
    });

    it('rejects rewrite together with stripPrefix', () => {
      expect(problemsOf(withRoutes([{ id: 'a', path: '/api/*', upstream: 'users', rewrite: '/x/*', stripPrefix: '/api' }]))).toEqual([
        'routes[0]: set rewrite or stripPrefix, not both',
      ]);
    });

    it.each([
      [['get']],
      [['GET', 'post']],
      [['GET POST']],
      [['G/ET']],
      [['']],
    ])('rejects bad method names %j', (methods) => {
      expect(problemsOf(withRoutes([{ id: 'a', path: '/a', upstream: 'users', methods }]))).toEqual([
        'routes[0].methods: methods must hold upper-case HTTP method names',
      ]);
    });

    it('rejects an empty or repeating method list', () => {
      expect(problemsOf(withRoutes([{ id: 'a', path: '/a', upstream: 'users', methods: [] }]))).toEqual([
        expect.stringMatching(/^routes\[0\]\.methods: /),
      ]);
      expect(problemsOf(withRoutes([{ id: 'a', path: '/a', upstream: 'users', methods: ['GET', 'GET'] }]))).toEqual([
        expect.stringMatching(/^routes\[0\]\.methods: /),
      ]);
    });

    it.each(['user', 'IP', 'header:', 'header:X-Api-Key', 'header:x api', 'cookie:session', 'ip '])('rejects rateLimit.key %j', (key) => {
      expect(problemsOf(withRoutes([{ id: 'a', path: '/a', upstream: 'users', rateLimit: { limit: 1, windowMs: 1000, key } }]))).toEqual([
        'routes[0].rateLimit.key: key must be ip, route, consumer or header:<lower-case name>',
      ]);
    });

    it.each(['/_gateway', '/_gateway/', '/_gateway/health/live', '/_gateway/*', '/_gateway/:x'])('rejects the route path %j under the management prefix', (path) => {
      expect(problemsOf(withRoutes([{ id: 'a', path, upstream: 'users' }]))).toEqual([
        `routes[0].path: "${path}" is under the reserved management prefix /_gateway`,
      ]);
    });

    it('follows a custom management prefix', () => {
      expect(problemsOf(withRoutes([{ id: 'a', path: '/_mgmt/x', upstream: 'users' }], { server: { managementPrefix: '/_mgmt' } }))).toEqual([
        'routes[0].path: "/_mgmt/x" is under the reserved management prefix /_mgmt',
      ]);
      expect(() => validateGatewayConfig(withRoutes([{ id: 'a', path: '/_gatewayx/y', upstream: 'users' }]))).not.toThrow();
    });

    it.each(['/_gateway/', '_gateway', '/', '/a b'])('rejects managementPrefix %j', (managementPrefix) => {
      expect(problemsOf({ server: { managementPrefix }, upstreams: USERS, routes: [] })).toEqual([
        expect.stringMatching(/^server\.managementPrefix: /),
      ]);
    });

    it.each([
      ['api', /^routes\[0\]\.path: "api" must start with \/$/],
      ['/a//b', /^routes\[0\]\.path: "\/a\/\/b" must be a normalised path/],
      ['/a/*/b', /^routes\[0\]\.path: "\/a\/\*\/b" \* is only allowed as the last segment$/],
      ['/a/:id/:id', /^routes\[0\]\.path: "\/a\/:id\/:id" parameter ":id" appears twice$/],
    ])('rejects the path %j, naming it', (path, message) => {
      const problems = problemsOf(withRoutes([{ id: 'a', path, upstream: 'users' }]));
      expect(problems).toHaveLength(1);
      expect(problems[0]).toMatch(message);
    });

    it.each(['API.example.com', 'a.*.example.com', 'example.com:80', '*example.com', 'a_b.example.com'])('rejects the host %j', (host) => {
      expect(problemsOf(withRoutes([{ id: 'a', path: '/a', upstream: 'users', host }]))).toEqual([
        'routes[0].host: host must be a lower-case host name, optionally starting with *.',
      ]);
    });

    it('rejects header predicates with non-token or upper-case names, or non-string values', () => {
      expect(problemsOf(withRoutes([{ id: 'a', path: '/a', upstream: 'users', headers: { 'X-Tenant': 'acme', 'x-version': 2 } }]))).toEqual([
        'routes[0].headers.X-Tenant: header names must be lower-case tokens',
        'routes[0].headers.x-version: must be a string',
      ]);
    });

    it.each(['/', 'api'])('rejects stripPrefix %j', (stripPrefix) => {
      expect(problemsOf(withRoutes([{ id: 'a', path: '/a', upstream: 'users', stripPrefix }]))).toEqual([
        'routes[0].stripPrefix: stripPrefix must start with / and not be /',
      ]);
    });

    it('rejects invalid route ids', () => {
      expect(problemsOf(withRoutes([{ id: '-a', path: '/a', upstream: 'users' }]))).toEqual([
        'routes[0].id: id must be letters, digits, _ . - (starting with a letter or digit)',
      ]);
      expect(problemsOf(withRoutes([{ path: '/a', upstream: 'users' }]))).toContain('routes[0].id: is required');
    });

    it('rejects numbers out of range, naming the nested field', () => {
      const problems = problemsOf({
        server: { bodyLimitBytes: 0 },
        defaults: { timeoutMs: 1.5 },
        upstreams: { users: { targets: ['http://a'], connectTimeoutMs: -1, concurrency: { limit: 0 } } },
        routes: [{ id: 'a', path: '/a', upstream: 'users', retry: { attempts: 11 }, concurrency: { limit: 1, queue: -1 } }],
      });
      for (const path of [
        'server.bodyLimitBytes',
        'defaults.timeoutMs',
        'upstreams.users.connectTimeoutMs',
        'upstreams.users.concurrency.limit',
        'routes[0].retry.attempts',
        'routes[0].concurrency.queue',
      ]) {
        expect(problems.some((p) => p.startsWith(`${path}: `))).toBe(true);
      }
    });

    it('rejects route entries that are not objects', () => {
      const problems = problemsOf(withRoutes(['/a', null]));
      expect(problems.some((p) => p.startsWith('routes[0]: '))).toBe(true);
      expect(problems.some((p) => p.startsWith('routes[1]: '))).toBe(true);
    });
  });
});

type RouteList = GatewayConfig['routes'][number][];
