import { request as httpRequest, type IncomingHttpHeaders, type OutgoingHttpHeaders } from 'node:http';
import type { RunningGateway } from '../../src/bootstrap';
import { expectGatewayError } from '../support/gateway-error-assertions';
import { startTestGateway } from '../support/gateway-fixture';
import { echoHandler, startUpstream, type EchoBody, type UpstreamFixture } from '../support/upstream-fixture';

/*
 * docs/configuration.md "Config file reference" (matching) through the real gateway. Every route has an upstream of its own, a
 * real echo server that tags its answers with the route id, so each test sees which route served
 * a request and which path and query that upstream got.
 */

interface Exchange {
  status: number;
  headers: IncomingHttpHeaders;
  text: string;
}

/**
 * A node:http request with the path sent exactly as written (undici and fetch would resolve
 * `..` and `%2e%2e` in the URL before sending) and any Host header.
 */
function send(port: number, path: string, options: { method?: string; headers?: OutgoingHttpHeaders } = {}): Promise<Exchange> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, path, method: options.method ?? 'GET', headers: options.headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

type RouteConfig = { id: string } & Record<string, unknown>;

interface RoutedGateway {
  gateway: RunningGateway;
  upstreams: Map<string, UpstreamFixture>;
  close(): Promise<void>;
}

/** One tagged echo upstream per route (upstream name = route id), then the gateway. */
async function startRoutedGateway(routes: RouteConfig[], server: Record<string, unknown> = {}): Promise<RoutedGateway> {
  const upstreams = new Map<string, UpstreamFixture>();
  for (const route of routes) {
    upstreams.set(
      route.id,
      await startUpstream((req, res) => {
        res.setHeader('x-served-by', route.id);
        echoHandler(req, res);
      }),
    );
  }
  const gateway = await startTestGateway({
    server,
    upstreams: Object.fromEntries([...upstreams].map(([id, fixture]) => [id, { targets: [fixture.url] }])),
    routes: routes.map((route) => ({ ...route, upstream: route.id })),
  });
  return {
    gateway,
    upstreams,
    close: async () => {
      await gateway.close();
      await Promise.all([...upstreams.values()].map((fixture) => fixture.close()));
    },
  };
}

const ROUTES: RouteConfig[] = [
  // Specificity, declared least specific first: static must still beat :param, :param beat *.
  { id: 'rev-wild', path: '/rev/*' },
  { id: 'rev-param', path: '/rev/:id' },
  { id: 'rev-static', path: '/rev/fixed' },
  { id: 'rev-param-info', path: '/rev/:id/info' },
  // The same routes declared most specific first.
  { id: 'fwd-static', path: '/fwd/fixed' },
  { id: 'fwd-param', path: '/fwd/:id' },
  { id: 'fwd-wild', path: '/fwd/*' },
  // A longer static prefix is more specific than a shorter one, for wildcards too.
  { id: 'nest-wild', path: '/nest/*' },
  { id: 'nest-deeper-wild', path: '/nest/a/*' },
  // Equally specific: the first in the file wins.
  { id: 'dup-first', path: '/dup/:x' },
  { id: 'dup-second', path: '/dup/:y' },
  { id: 'dupwild-first', path: '/dupwild/*' },
  { id: 'dupwild-second', path: '/dupwild/*' },
  // Regex routes come after every path route, and among themselves in file order.
  { id: 're-first', pathRegex: '^/mixed/.*$' },
  { id: 'mixed-param', path: '/mixed/:id' },
  { id: 're-second', pathRegex: '^/mixed/1/.*$' },
  { id: 're-before-wild', pathRegex: '^/catch/special$' },
  { id: 'catch-wild', path: '/catch/*' },
  { id: 're-only', pathRegex: '^/v[0-9]+/legacy/.*$' },
  // Methods.
  { id: 'm-read', path: '/m/items', methods: ['GET', 'HEAD'] },
  { id: 'm-write', path: '/m/items', methods: ['POST'] },
  { id: 'm-get-one', path: '/m/items/:id', methods: ['GET'] },
  { id: 'm-fallback-static', path: '/mf/fixed', methods: ['POST'] },
  { id: 'm-fallback-param', path: '/mf/:id', methods: ['GET'] },
  // Host predicates.
  { id: 'h-exact', path: '/h', host: 'api.example.com' },
  { id: 'h-wild', path: '/h', host: '*.example.com' },
  { id: 'h-any', path: '/h' },
  { id: 'h-only', path: '/honly', host: 'api.example.com' },
  // Header predicates.
  { id: 'hd-acme', path: '/hd', headers: { 'x-tenant': 'acme' } },
  { id: 'hd-any', path: '/hd' },
  { id: 'hd-only', path: '/hdonly', headers: { 'x-tenant': 'acme', 'x-plan': 'gold' } },
  // Rewrites.
  { id: 'rw-params', path: '/rw/users/:id/orders/:order', rewrite: '/v2/orders/:order/by/:id' },
  { id: 'rw-tail', path: '/rw/files/*', rewrite: '/storage/*' },
  { id: 'strip', path: '/strip/*', stripPrefix: '/strip' },
  { id: 'plain', path: '/plain/:x' },
  // Normalisation.
  { id: 'norm-b', path: '/b/:x' },
  { id: 'pub', path: '/public/*' },
];

describe('routing (docs/configuration.md "Config file reference") through the real gateway', () => {
  let routed: RoutedGateway;
  let port: number;

  beforeAll(async () => {
    routed = await startRoutedGateway(ROUTES);
    port = routed.gateway.port;
  });

  afterAll(async () => {
    await routed.close();
  });

  /** Sends the request and returns the id of the route (upstream) that served it. */
  async function servedBy(path: string, options: { method?: string; headers?: OutgoingHttpHeaders } = {}): Promise<string> {
    const res = await send(port, path, options);
    expect(res.status).toBe(200);
    const tag = res.headers['x-served-by'];
    expect(typeof tag).toBe('string');
    return tag as string;
  }

  /** Sends the request and returns what the upstream saw: its route id and the URL it was asked for. */
  async function upstreamSaw(path: string, options: { method?: string; headers?: OutgoingHttpHeaders } = {}): Promise<{ route: string; url: string }> {
    const res = await send(port, path, options);
    expect(res.status).toBe(200);
    return { route: res.headers['x-served-by'] as string, url: (JSON.parse(res.text) as EchoBody).url };
  }

  function totalUpstreamRequests(): number {
    let total = 0;
    for (const fixture of routed.upstreams.values()) total += fixture.requests.length;
    return total;
  }

  describe('specificity: static over :param over *, whatever the file order', () => {
    it.each([
      ['/rev/fixed', 'rev-static'],
      ['/rev/other', 'rev-param'],
      ['/rev/a/b', 'rev-wild'],
      ['/rev/x/info', 'rev-param-info'],
      // /rev/fixed has no /info child: the matcher backtracks to the :param branch.
      ['/rev/fixed/info', 'rev-param-info'],
      ['/rev/x/other', 'rev-wild'],
    ])('routes declared least specific first: %s -> %s', async (path, route) => {
      expect(await servedBy(path)).toBe(route);
    });

    it.each([
      ['/fwd/fixed', 'fwd-static'],
      ['/fwd/other', 'fwd-param'],
      ['/fwd/a/b/c', 'fwd-wild'],
    ])('routes declared most specific first: %s -> %s', async (path, route) => {
      expect(await servedBy(path)).toBe(route);
    });

    it('prefers the wildcard with the longer static prefix', async () => {
      expect(await servedBy('/nest/a/b')).toBe('nest-deeper-wild');
      expect(await servedBy('/nest/b/c')).toBe('nest-wild');
    });
  });

  describe('equally specific routes', () => {
    it('the first in the file wins (:param)', async () => {
      expect(await servedBy('/dup/1')).toBe('dup-first');
      expect(routed.upstreams.get('dup-second')!.requests).toHaveLength(0);
    });

    it('the first in the file wins (*)', async () => {
      expect(await servedBy('/dupwild/a/b')).toBe('dupwild-first');
      expect(routed.upstreams.get('dupwild-second')!.requests).toHaveLength(0);
    });
  });

  describe('regex routes', () => {
    it('are tried after every path route, even when declared before it', async () => {
      expect(await servedBy('/mixed/1')).toBe('mixed-param');
      expect(await servedBy('/catch/special')).toBe('catch-wild');
    });

    it('serve what no path route matches, the first matching regex in file order', async () => {
      expect(await servedBy('/mixed/1/2')).toBe('re-first');
      expect(routed.upstreams.get('re-second')!.requests).toHaveLength(0);
    });

    it('match the normalised path and send it upstream unchanged', async () => {
      expect(await upstreamSaw('/v2/legacy/orders?id=7')).toEqual({ route: 're-only', url: '/v2/legacy/orders?id=7' });
      expect(await upstreamSaw('/x/../v3/legacy//a')).toEqual({ route: 're-only', url: '/v3/legacy/a' });
    });
  });

  describe('methods', () => {
    it('send each method to the route that allows it', async () => {
      expect(await servedBy('/m/items')).toBe('m-read');
      expect(await servedBy('/m/items', { method: 'POST' })).toBe('m-write');
      const head = await send(port, '/m/items', { method: 'HEAD' });
      expect(head.status).toBe(200);
      expect(head.headers['x-served-by']).toBe('m-read');
    });

    it('answer 405 method_not_allowed with an Allow header listing every method of the matching routes', async () => {
      const before = totalUpstreamRequests();
      const res = await send(port, '/m/items', { method: 'DELETE' });
      expectGatewayError(res, 405, 'method_not_allowed', null);
      const allow = String(res.headers.allow)
        .split(',')
        .map((m) => m.trim());
      expect(allow.sort()).toEqual(['GET', 'HEAD', 'POST']);
      expect(totalUpstreamRequests()).toBe(before);
    });

    it('answer 405 on a :param route too', async () => {
      const res = await send(port, '/m/items/5', { method: 'PUT' });
      expectGatewayError(res, 405, 'method_not_allowed', null);
      expect(res.headers.allow).toBe('GET');
      expect(await servedBy('/m/items/5')).toBe('m-get-one');
    });

    it('let a less specific route that allows the method serve it (methods are part of the match)', async () => {
      expect(await servedBy('/mf/fixed', { method: 'POST' })).toBe('m-fallback-static');
      expect(await servedBy('/mf/fixed')).toBe('m-fallback-param');
    });
  });

  describe('host predicate', () => {
    it.each([
      ['api.example.com', 'h-exact'],
      ['API.Example.COM:8443', 'h-exact'],
      ['shop.example.com', 'h-wild'],
      ['shop.example.com:80', 'h-wild'],
      ['example.com', 'h-any'],
      ['evilexample.com', 'h-any'],
      ['api.example.com.evil.net', 'h-any'],
      ['other.org', 'h-any'],
    ])('Host: %s -> %s', async (host, route) => {
      expect(await servedBy('/h', { headers: { host } })).toBe(route);
    });

    it('a route whose host does not match is not a match: 404 no_route', async () => {
      expect(await servedBy('/honly', { headers: { host: 'api.example.com' } })).toBe('h-only');
      const res = await send(port, '/honly', { headers: { host: 'www.example.com' } });
      expectGatewayError(res, 404, 'no_route', null);
    });
  });

  describe('header predicates', () => {
    it('exact match on the value selects the route', async () => {
      expect(await servedBy('/hd', { headers: { 'x-tenant': 'acme' } })).toBe('hd-acme');
      expect(await servedBy('/hd', { headers: { 'X-Tenant': 'acme' } })).toBe('hd-acme');
    });

    it('a different value or a missing header falls through to the next route', async () => {
      expect(await servedBy('/hd', { headers: { 'x-tenant': 'ACME' } })).toBe('hd-any');
      expect(await servedBy('/hd', { headers: { 'x-tenant': 'acme-corp' } })).toBe('hd-any');
      expect(await servedBy('/hd')).toBe('hd-any');
    });

    it('every predicate must hold, otherwise 404 no_route', async () => {
      expect(await servedBy('/hdonly', { headers: { 'x-tenant': 'acme', 'x-plan': 'gold' } })).toBe('hd-only');
      expectGatewayError(await send(port, '/hdonly', { headers: { 'x-tenant': 'acme' } }), 404, 'no_route', null);
      expectGatewayError(await send(port, '/hdonly', { headers: { 'x-plan': 'gold' } }), 404, 'no_route', null);
    });
  });

  describe('rewrite and stripPrefix (query string always kept)', () => {
    it('rewrite substitutes :params in any order and keeps the query', async () => {
      expect(await upstreamSaw('/rw/users/7/orders/99?x=1&y=2')).toEqual({ route: 'rw-params', url: '/v2/orders/99/by/7?x=1&y=2' });
    });

    it('rewrite substitutes the * tail', async () => {
      expect(await upstreamSaw('/rw/files/a/b.txt?dl=1')).toEqual({ route: 'rw-tail', url: '/storage/a/b.txt?dl=1' });
    });

    it('params are passed on as received, percent-encoding included', async () => {
      expect((await upstreamSaw('/rw/users/a%20b/orders/c%23d')).url).toBe('/v2/orders/c%23d/by/a%20b');
    });

    it('stripPrefix removes the prefix and keeps the query', async () => {
      expect(await upstreamSaw('/strip/a/b?q=1&q=2')).toEqual({ route: 'strip', url: '/a/b?q=1&q=2' });
      expect(await upstreamSaw('/strip/?q=1')).toEqual({ route: 'strip', url: '/?q=1' });
    });

    it('without rewrite the path and the query string go upstream exactly as received', async () => {
      const query = '?a=1&a=2&empty=&enc=%2F..%2F&sp=x%20y&plus=a+b&q=/../x';
      expect(await upstreamSaw(`/plain/p1${query}`)).toEqual({ route: 'plain', url: `/plain/p1${query}` });
      expect(await upstreamSaw('/plain/p1?')).toEqual({ route: 'plain', url: '/plain/p1?' });
    });
  });

  describe('path normalisation', () => {
    it.each([
      ['/a/../b/1', '/b/1'],
      ['//b//1', '/b/1'],
      ['/b/./1', '/b/1'],
      ['/a/%2e%2e/b/1', '/b/1'],
      ['/a/%2E%2E/b/1', '/b/1'],
      ['/a/.%2e/b/1', '/b/1'],
      ['/b/x/y/../../1', '/b/1'],
      ['/../b/1', '/b/1'],
    ])('%s is matched and sent upstream as the normalised path', async (path, normalised) => {
      expect(await upstreamSaw(path)).toEqual({ route: 'norm-b', url: normalised });
    });

    it('keeps the query string out of normalisation', async () => {
      expect(await upstreamSaw('/a/../b/1?next=/a/../b//c')).toEqual({ route: 'norm-b', url: '/b/1?next=/a/../b//c' });
    });

    it.each(['/public/../admin/users', '/public/%2e%2e/admin/users', '/public/x/../../admin', '/public/.%2E/admin', '//public/../../admin'])(
      'a path written under a route cannot escape it with dot segments: %s -> 404, nothing proxied',
      async (path) => {
        const before = totalUpstreamRequests();
        expectGatewayError(await send(port, path), 404, 'no_route', null);
        expect(totalUpstreamRequests()).toBe(before);
      },
    );

    it('dot segments that stay inside the route are resolved before the upstream sees them', async () => {
      expect(await upstreamSaw('/public/x/../y/./z')).toEqual({ route: 'pub', url: '/public/y/z' });
    });

    it('an encoded slash hiding ../ gets 400 (server.pathEscapedSlashes: reject) and never reaches the upstream', async () => {
      const before = totalUpstreamRequests();
      expectGatewayError(await send(port, '/public/x/..%2f..%2fadmin'), 400, 'bad_request', null);
      expect(totalUpstreamRequests()).toBe(before);
    });
  });

  describe('no route', () => {
    it('answers 404 no_route with the JSON error of docs/errors.md and no route field', async () => {
      const before = totalUpstreamRequests();
      const res = await send(port, '/nothing/here?x=1');
      expectGatewayError(res, 404, 'no_route', null);
      expect(totalUpstreamRequests()).toBe(before);
    });

    it('a trailing slash is not the same path', async () => {
      expectGatewayError(await send(port, '/m/items/'), 404, 'no_route', null);
      expectGatewayError(await send(port, '/plain/p1/'), 404, 'no_route', null);
    });
  });
});

describe('the management prefix is reserved (docs/configuration.md "Config file reference", docs/operations.md "Management endpoints")', () => {
  let routed: RoutedGateway;
  let catchAll: UpstreamFixture;
  let port: number;

  beforeAll(async () => {
    // A catch-all route that would proxy anything the prefix did not reserve.
    routed = await startRoutedGateway([{ id: 'everything', path: '/*' }]);
    catchAll = routed.upstreams.get('everything')!;
    port = routed.gateway.port;
  });

  afterAll(async () => {
    await routed.close();
  });

  it('the catch-all route proxies ordinary paths', async () => {
    const res = await send(port, '/anything/at/all');
    expect(res.status).toBe(200);
    expect(res.headers['x-served-by']).toBe('everything');
  });

  it('GET /_gateway/health/live answers 200 from the gateway itself', async () => {
    const before = catchAll.requests.length;
    const res = await send(port, '/_gateway/health/live');
    expect(res.status).toBe(200);
    expect(res.headers['x-served-by']).toBeUndefined();
    expect(catchAll.requests.length).toBe(before);
  });

  it.each([
    '/_gateway',
    '/_gateway/',
    '/_gateway/unknown',
    '/_gateway/health/nope',
    '/_gateway/admin/routes',
    '//_gateway/unknown',
    '/x/../_gateway/unknown',
    '/%5Fgateway/unknown',
    '/%5fgateway/health/live/../../secret',
  ])('%s is never proxied: 404 no_route', async (path) => {
    const before = catchAll.requests.length;
    expectGatewayError(await send(port, path), 404, 'no_route', null);
    expect(catchAll.requests.length).toBe(before);
  });

  it('a method other than GET on a management path is never proxied either: 405 with Allow', async () => {
    const before = catchAll.requests.length;
    const res = await send(port, '/_gateway/health/live', { method: 'POST' });
    expectGatewayError(res, 405, 'method_not_allowed', null);
    expect(res.headers.allow).toBe('GET, HEAD');
    expect(res.headers['x-served-by']).toBeUndefined();
    expect(catchAll.requests.length).toBe(before);
  });
});

describe('server.managementPrefix can be changed', () => {
  let routed: RoutedGateway;
  let port: number;

  beforeAll(async () => {
    routed = await startRoutedGateway([{ id: 'everything', path: '/*' }], { managementPrefix: '/_ops' });
    port = routed.gateway.port;
  });

  afterAll(async () => {
    await routed.close();
  });

  it('serves health under the new prefix, reserves it, and proxies the old one', async () => {
    expect((await send(port, '/_ops/health/live')).status).toBe(200);
    expectGatewayError(await send(port, '/_ops/unknown'), 404, 'no_route', null);
    const old = await send(port, '/_gateway/health/live');
    expect(old.status).toBe(200);
    expect(old.headers['x-served-by']).toBe('everything');
  });
});
