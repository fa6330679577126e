import type { IncomingHttpHeaders } from 'node:http';
import { routeTable, type RouteInput } from '../../test/support/route-settings';
import { normalisePath } from './path-normaliser';
import { RouteTable, type RouteMatch } from './route-table';

const table = routeTable;

interface RequestOptions {
  readonly method?: string;
  readonly host?: string;
  readonly headers?: IncomingHttpHeaders;
}

function match(t: RouteTable, path: string, options: RequestOptions = {}): RouteMatch {
  return t.match({ method: options.method ?? 'GET', path, host: options.host, headers: options.headers ?? {} });
}

/** The id of the matched route, or the kind of miss. */
function matchedId(t: RouteTable, path: string, options: RequestOptions = {}): string {
  const result = match(t, path, options);
  return result.kind === 'route' ? result.route.id : result.kind;
}

function upstreamPath(t: RouteTable, path: string, options: RequestOptions = {}): string {
  const result = match(t, path, options);
  if (result.kind !== 'route') throw new Error(`expected a route for ${path}, got ${result.kind}`);
  return result.upstreamPath;
}

function allowOf(t: RouteTable, path: string, options: RequestOptions = {}): readonly string[] {
  const result = match(t, path, options);
  if (result.kind !== 'method_not_allowed') throw new Error(`expected 405 for ${path}, got ${result.kind}`);
  return result.allow;
}

function permutations<T>(items: readonly T[]): T[][] {
  if (items.length <= 1) return [items.slice()];
  return items.flatMap((item, i) =>
    permutations([...items.slice(0, i), ...items.slice(i + 1)]).map((rest) => [item, ...rest]),
  );
}

describe('RouteTable', () => {
  describe('specificity: static over :param over *', () => {
    const users: RouteInput[] = [
      { id: 'wild', path: '/api/users/*' },
      { id: 'param', path: '/api/users/:id' },
      { id: 'static', path: '/api/users/me' },
    ];

    it.each(permutations(users).map((order) => [order.map((r) => r.id).join(','), order]))(
      'picks the most specific route whatever the file order (%s)',
      (_name, order) => {
        const t = table(order as RouteInput[]);
        expect(matchedId(t, '/api/users/me')).toBe('static');
        expect(matchedId(t, '/api/users/42')).toBe('param');
        expect(matchedId(t, '/api/users/42/orders')).toBe('wild');
        expect(matchedId(t, '/api/users')).toBe('wild');
      },
    );

    it('prefers a static segment over a :param at the first segment where they differ', () => {
      for (const order of permutations<RouteInput>([
        { id: 'param-first', path: '/api/:kind/detail' },
        { id: 'static-first', path: '/api/users/:id' },
      ])) {
        const t = table(order);
        expect(matchedId(t, '/api/users/detail')).toBe('static-first');
        expect(matchedId(t, '/api/orders/detail')).toBe('param-first');
      }
    });

    it('falls back to a :param branch when the static branch has no route for the rest of the path', () => {
      const t = table([
        { id: 'me', path: '/api/users/me' },
        { id: 'orders', path: '/api/:kind/orders' },
      ]);
      expect(matchedId(t, '/api/users/orders')).toBe('orders');
      expect(matchedId(t, '/api/users/me')).toBe('me');
    });

    it('falls back to a shallower * when a deeper branch dead-ends', () => {
      const t = table([
        { id: 'deep', path: '/api/users/:id/profile' },
        { id: 'api-tail', path: '/api/*' },
      ]);
      expect(matchedId(t, '/api/users/1/profile')).toBe('deep');
      const result = match(t, '/api/users/1/settings');
      expect(result.kind === 'route' && result.route.id).toBe('api-tail');
    });

    it('prefers a deeper * over a shallower *', () => {
      for (const order of permutations<RouteInput>([
        { id: 'root', path: '/*' },
        { id: 'api', path: '/api/*' },
        { id: 'v1', path: '/api/v1/*' },
      ])) {
        const t = table(order);
        expect(matchedId(t, '/api/v1/x')).toBe('v1');
        expect(matchedId(t, '/api/v2/x')).toBe('api');
        expect(matchedId(t, '/other')).toBe('root');
        expect(matchedId(t, '/')).toBe('root');
      }
    });

    it('prefers a :param over a * at the same depth', () => {
      const t = table([
        { id: 'tail', path: '/files/*' },
        { id: 'one', path: '/files/:name' },
      ]);
      expect(matchedId(t, '/files/a.txt')).toBe('one');
      expect(matchedId(t, '/files/dir/a.txt')).toBe('tail');
    });
  });

  describe('first in the file among equally specific routes', () => {
    it('picks the first of two :param routes', () => {
      expect(matchedId(table([{ id: 'a', path: '/x/:a' }, { id: 'b', path: '/x/:b' }]), '/x/1')).toBe('a');
      expect(matchedId(table([{ id: 'b', path: '/x/:b' }, { id: 'a', path: '/x/:a' }]), '/x/1')).toBe('b');
    });

    it('picks the first of two identical static routes', () => {
      expect(matchedId(table([{ id: 'one', path: '/x' }, { id: 'two', path: '/x' }]), '/x')).toBe('one');
      expect(matchedId(table([{ id: 'two', path: '/x' }, { id: 'one', path: '/x' }]), '/x')).toBe('two');
    });

    it('picks the first of two * routes on the same prefix', () => {
      expect(matchedId(table([{ id: 'one', path: '/x/*' }, { id: 'two', path: '/x/*' }]), '/x/y')).toBe('one');
      expect(matchedId(table([{ id: 'two', path: '/x/*' }, { id: 'one', path: '/x/*' }]), '/x/y')).toBe('two');
    });

    it('gives each :param route its own values when names differ', () => {
      const t = table([
        { id: 'a', path: '/x/:a', rewrite: '/a/:a' },
        { id: 'b', path: '/x/:b', rewrite: '/b/:b' },
      ]);
      expect(upstreamPath(t, '/x/1')).toBe('/a/1');
    });
  });

  describe('regex routes', () => {
    it('are tried after path routes, even when listed first', () => {
      const t = table([
        { id: 'regex', pathRegex: '^/api/.*$' },
        { id: 'path', path: '/api/users' },
        { id: 'catch-all', path: '/other/*' },
      ]);
      expect(matchedId(t, '/api/users')).toBe('path');
      expect(matchedId(t, '/api/orders')).toBe('regex');
      expect(matchedId(t, '/other/x')).toBe('catch-all');
    });

    it('lose to a path catch-all', () => {
      const t = table([
        { id: 'regex', pathRegex: '^/v[0-9]+/legacy/.*$' },
        { id: 'everything', path: '/*' },
      ]);
      expect(matchedId(t, '/v1/legacy/x')).toBe('everything');
    });

    it('are tried in file order', () => {
      const t = table([
        { id: 'first', pathRegex: '^/v[0-9]+/' },
        { id: 'second', pathRegex: '^/v1/' },
      ]);
      expect(matchedId(t, '/v1/x')).toBe('first');
      const reversed = table([
        { id: 'second', pathRegex: '^/v1/' },
        { id: 'first', pathRegex: '^/v[0-9]+/' },
      ]);
      expect(matchedId(reversed, '/v1/x')).toBe('second');
      expect(matchedId(reversed, '/v2/x')).toBe('first');
    });

    it('match against the whole normalised path (anchors are honoured)', () => {
      const t = table([{ id: 'legacy', pathRegex: '^/v[0-9]+/legacy/.*$' }]);
      expect(matchedId(t, '/v12/legacy/a/b')).toBe('legacy');
      expect(matchedId(t, '/x/v1/legacy/a')).toBe('no_route');
      expect(matchedId(t, '/vX/legacy/a')).toBe('no_route');
    });

    it('are reached when the path route that matches has a failing host predicate', () => {
      const t = table([
        { id: 'internal', path: '/api/users', host: 'internal.example.com' },
        { id: 'regex', pathRegex: '^/api/' },
      ]);
      expect(matchedId(t, '/api/users', { host: 'internal.example.com' })).toBe('internal');
      expect(matchedId(t, '/api/users', { host: 'public.example.com' })).toBe('regex');
    });

    it('returns 404 when nothing matches', () => {
      const t = table([{ id: 'r', pathRegex: '^/a$' }, { id: 'p', path: '/b' }]);
      expect(match(t, '/c')).toEqual({ kind: 'no_route' });
    });
  });

  describe('methods and 405', () => {
    it('matches any method when methods is not set', () => {
      const t = table([{ id: 'any', path: '/x' }]);
      for (const method of ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'PURGE']) {
        expect(matchedId(t, '/x', { method })).toBe('any');
      }
    });

    it('matches only the listed methods', () => {
      const t = table([{ id: 'read', path: '/x', methods: ['GET', 'HEAD'] }]);
      expect(matchedId(t, '/x', { method: 'GET' })).toBe('read');
      expect(matchedId(t, '/x', { method: 'HEAD' })).toBe('read');
      expect(match(t, '/x', { method: 'POST' })).toEqual({ kind: 'method_not_allowed', allow: ['GET', 'HEAD'] });
    });

    it('answers 405 with the sorted union of the methods of every route whose path matched', () => {
      const t = table([
        { id: 'tail', path: '/api/*', methods: ['PATCH'] },
        { id: 'me', path: '/api/users/me', methods: ['PUT', 'GET'] },
        { id: 'one', path: '/api/users/:id', methods: ['DELETE', 'GET'] },
        { id: 'regex', pathRegex: '^/api/users/', methods: ['OPTIONS'] },
        { id: 'elsewhere', path: '/other', methods: ['POST'] },
      ]);
      expect(allowOf(t, '/api/users/me', { method: 'POST' })).toEqual(['DELETE', 'GET', 'OPTIONS', 'PATCH', 'PUT']);
      expect(allowOf(t, '/api/users/7', { method: 'POST' })).toEqual(['DELETE', 'GET', 'OPTIONS', 'PATCH']);
      expect(allowOf(t, '/api/orders', { method: 'POST' })).toEqual(['PATCH']);
    });

    it('lets a less specific route that allows the method win over a 405', () => {
      const t = table([
        { id: 'me', path: '/api/users/me', methods: ['GET'] },
        { id: 'one', path: '/api/users/:id', methods: ['POST'] },
        { id: 'tail', path: '/api/*', methods: ['PUT'] },
        { id: 'regex', pathRegex: '^/api/', methods: ['DELETE'] },
      ]);
      expect(matchedId(t, '/api/users/me', { method: 'GET' })).toBe('me');
      expect(matchedId(t, '/api/users/me', { method: 'POST' })).toBe('one');
      expect(matchedId(t, '/api/users/me', { method: 'PUT' })).toBe('tail');
      expect(matchedId(t, '/api/users/me', { method: 'DELETE' })).toBe('regex');
      expect(allowOf(t, '/api/users/me', { method: 'PATCH' })).toEqual(['DELETE', 'GET', 'POST', 'PUT']);
    });

    it('picks the first route in the file that allows the method among equals', () => {
      const t = table([
        { id: 'reads', path: '/x', methods: ['GET'] },
        { id: 'writes', path: '/x', methods: ['POST', 'PUT'] },
      ]);
      expect(matchedId(t, '/x', { method: 'GET' })).toBe('reads');
      expect(matchedId(t, '/x', { method: 'PUT' })).toBe('writes');
      expect(allowOf(t, '/x', { method: 'DELETE' })).toEqual(['GET', 'POST', 'PUT']);
    });

    it('lists each method once', () => {
      const t = table([
        { id: 'a', path: '/x', methods: ['GET', 'HEAD'] },
        { id: 'b', path: '/:p', methods: ['HEAD', 'GET'] },
      ]);
      expect(allowOf(t, '/x', { method: 'POST' })).toEqual(['GET', 'HEAD']);
    });

    it('does not count routes whose host or header predicates fail', () => {
      const t = table([
        { id: 'internal', path: '/x', methods: ['GET'], host: 'internal.example.com' },
        { id: 'tenant', path: '/x', methods: ['PUT'], headers: { 'x-tenant': 'acme' } },
      ]);
      expect(match(t, '/x', { method: 'POST', host: 'public.example.com' })).toEqual({ kind: 'no_route' });
      expect(allowOf(t, '/x', { method: 'POST', host: 'internal.example.com' })).toEqual(['GET']);
      expect(allowOf(t, '/x', { method: 'POST', host: 'internal.example.com', headers: { 'x-tenant': 'acme' } })).toEqual([
        'GET',
        'PUT',
      ]);
    });

    it('answers 404, not 405, when no route matches the path', () => {
      const t = table([{ id: 'x', path: '/x', methods: ['GET'] }]);
      expect(match(t, '/y', { method: 'POST' })).toEqual({ kind: 'no_route' });
    });
  });

  describe('host predicate', () => {
    const exact = table([{ id: 'exact', path: '/x', host: 'api.example.com' }]);
    const wild = table([{ id: 'wild', path: '/x', host: '*.example.com' }]);

    it.each(['api.example.com', 'API.Example.COM', 'api.example.com:8443', 'Api.Example.Com:80'])('exact host matches %s', (host) => {
      expect(matchedId(exact, '/x', { host })).toBe('exact');
    });

    it.each([undefined, '', 'other.example.com', 'example.com', 'xapi.example.com', 'api.example.com.evil.net', 'a.api.example.com'])(
      'exact host does not match %s',
      (host) => {
        expect(matchedId(exact, '/x', { host })).toBe('no_route');
      },
    );

    it.each(['a.example.com', 'a.b.example.com', 'A.EXAMPLE.com', 'a.example.com:8080', 'API.Example.Com:443'])(
      '*.example.com matches %s',
      (host) => {
        expect(matchedId(wild, '/x', { host })).toBe('wild');
      },
    );

    it.each([undefined, '', 'example.com', 'EXAMPLE.COM', 'example.com:8080', '.example.com', 'badexample.com', 'a.example.com.evil.net', 'a.example.org'])(
      '*.example.com does not match %s',
      (host) => {
        expect(matchedId(wild, '/x', { host })).toBe('no_route');
      },
    );

    it('a route without a host matches any host or none', () => {
      const t = table([{ id: 'any', path: '/x' }]);
      for (const host of [undefined, 'a.example.com', '127.0.0.1:8080', '[::1]:8080']) {
        expect(matchedId(t, '/x', { host })).toBe('any');
      }
    });
  });

  describe('header predicates', () => {
    const t = table([{ id: 'acme', path: '/x', headers: { 'x-tenant': 'acme', 'x-env': 'prod' } }]);

    it('match when every header has exactly the value', () => {
      expect(matchedId(t, '/x', { headers: { 'x-tenant': 'acme', 'x-env': 'prod', 'x-other': '1' } })).toBe('acme');
    });

    it.each<[string, IncomingHttpHeaders]>([
      ['a header is missing', { 'x-tenant': 'acme' }],
      ['no headers at all', {}],
      ['the value differs in case', { 'x-tenant': 'ACME', 'x-env': 'prod' }],
      ['the value has extra text', { 'x-tenant': 'acme2', 'x-env': 'prod' }],
      ['the value is a prefix', { 'x-tenant': 'acm', 'x-env': 'prod' }],
      ['the value is a list', { 'x-tenant': 'acme, other', 'x-env': 'prod' }],
    ])('do not match when %s', (_name, headers) => {
      expect(matchedId(t, '/x', { headers })).toBe('no_route');
    });
  });

  describe('a more specific route whose predicates fail falls back to a less specific one', () => {
    const t = table([
      { id: 'tail', path: '/api/*' },
      { id: 'one', path: '/api/users/:id', host: '*.internal.example.com' },
      { id: 'me', path: '/api/users/me', headers: { 'x-tenant': 'acme' } },
      { id: 'me-any', path: '/api/users/me', host: 'api.example.com' },
    ]);

    it('on headers', () => {
      expect(matchedId(t, '/api/users/me', { headers: { 'x-tenant': 'acme' } })).toBe('me');
    });

    it('on host, to an equally specific later route', () => {
      expect(matchedId(t, '/api/users/me', { host: 'api.example.com' })).toBe('me-any');
    });

    it('on host, to a :param route', () => {
      expect(matchedId(t, '/api/users/me', { host: 'a.internal.example.com' })).toBe('one');
    });

    it('to the * route when nothing more specific fits', () => {
      expect(matchedId(t, '/api/users/me', { host: 'public.example.com' })).toBe('tail');
      expect(matchedId(t, '/api/users/42', { host: 'public.example.com' })).toBe('tail');
    });
  });

  describe('upstream path', () => {
    it('is the path itself without rewrite or stripPrefix', () => {
      const t = table([{ id: 'r', path: '/api/users/:id' }, { id: 'x', pathRegex: '^/legacy/' }]);
      expect(upstreamPath(t, '/api/users/42')).toBe('/api/users/42');
      expect(upstreamPath(t, '/legacy/a/b')).toBe('/legacy/a/b');
    });

    it('fills :params into the rewrite template', () => {
      const t = table([{ id: 'r', path: '/api/users/:id', rewrite: '/v1/users/:id' }]);
      expect(upstreamPath(t, '/api/users/42')).toBe('/v1/users/42');
    });

    it('fills several :params in any order, and params next to literal text', () => {
      const t = table([
        { id: 'swap', path: '/orgs/:org/users/:user', rewrite: '/u/:user/o/:org' },
        { id: 'json', path: '/items/:id', rewrite: '/v2/items/:id.json' },
        { id: 'static', path: '/static', rewrite: '/v9/fixed' },
      ]);
      expect(upstreamPath(t, '/orgs/acme/users/bob')).toBe('/u/bob/o/acme');
      expect(upstreamPath(t, '/items/7')).toBe('/v2/items/7.json');
      expect(upstreamPath(t, '/static')).toBe('/v9/fixed');
    });

    it('fills the * tail', () => {
      const t = table([
        { id: 'assets', path: '/static/*', rewrite: '/assets/*' },
        { id: 'versioned', path: '/api/:version/*', rewrite: '/:version/x/*' },
      ]);
      expect(upstreamPath(t, '/static/css/site.css')).toBe('/assets/css/site.css');
      expect(upstreamPath(t, '/static/a')).toBe('/assets/a');
      expect(upstreamPath(t, '/api/v3/users/1/orders')).toBe('/v3/x/users/1/orders');
    });

    it('keeps percent-escapes in params and tails as received', () => {
      const t = table([
        { id: 'one', path: '/api/users/:id', rewrite: '/v1/users/:id' },
        { id: 'tail', path: '/files/*', rewrite: '/store/*' },
      ]);
      expect(upstreamPath(t, '/api/users/a%2Fb')).toBe('/v1/users/a%2Fb');
      expect(upstreamPath(t, '/files/dir%20one/x%3Fy')).toBe('/store/dir%20one/x%3Fy');
    });

    it('strips a prefix', () => {
      const t = table([
        { id: 'tail', path: '/api/*', stripPrefix: '/api' },
        { id: 'exact', path: '/svc/users', stripPrefix: '/svc' },
      ]);
      expect(upstreamPath(t, '/api/users/1')).toBe('/users/1');
      expect(upstreamPath(t, '/api/')).toBe('/');
      expect(upstreamPath(t, '/api')).toBe('/');
      expect(upstreamPath(t, '/svc/users')).toBe('/users');
    });

    it('strips a prefix only at a segment boundary', () => {
      const t = table([{ id: 'all', path: '/*', stripPrefix: '/api' }]);
      expect(upstreamPath(t, '/apix/users')).toBe('/apix/users');
      expect(upstreamPath(t, '/other/api/users')).toBe('/other/api/users');
      expect(upstreamPath(t, '/api/users')).toBe('/users');
    });

    it('rewrites regex routes with $n groups', () => {
      const t = table([
        { id: 'legacy', pathRegex: '^/v([0-9]+)/legacy/(.*)$', rewrite: '/legacy/$2/version/$1' },
        { id: 'strip', pathRegex: '^/old/', stripPrefix: '/old' },
      ]);
      expect(upstreamPath(t, '/v12/legacy/a/b')).toBe('/legacy/a/b/version/12');
      expect(upstreamPath(t, '/old/thing')).toBe('/thing');
    });

    it('uses the values of the route that matched, not of a branch that was tried first', () => {
      const t = table([
        { id: 'deep', path: '/a/:x/:y/z', rewrite: '/deep/:x/:y' },
        { id: 'shallow', path: '/a/:p/*', rewrite: '/shallow/:p/*' },
      ]);
      expect(upstreamPath(t, '/a/1/2/z')).toBe('/deep/1/2');
      expect(upstreamPath(t, '/a/1/2/q')).toBe('/shallow/1/2/q');
    });
  });

  describe('management prefix', () => {
    const t = table([
      { id: 'everything', path: '/*' },
      { id: 'param', path: '/:first/health/live' },
      { id: 'regex', pathRegex: '.*' },
    ]);

    it.each(['/_gateway', '/_gateway/', '/_gateway/health/live', '/_gateway/admin/routes', '/_gateway/metrics'])('never routes %s', (path) => {
      expect(match(t, path)).toEqual({ kind: 'no_route' });
      expect(match(t, path, { method: 'POST' })).toEqual({ kind: 'no_route' });
    });

    it('never routes a management path reached through normalisation', () => {
      for (const raw of ['/api/../_gateway/health/live', '//_gateway//metrics', '/%5Fgateway/admin/routes', '/./_gateway']) {
        expect(match(t, normalisePath(raw))).toEqual({ kind: 'no_route' });
      }
    });

    it('routes paths that only share a prefix of characters', () => {
      expect(matchedId(t, '/_gatewayx')).toBe('everything');
      expect(matchedId(t, '/_gateway-other/x')).toBe('everything');
      expect(matchedId(t, '/x/_gateway')).toBe('everything');
      expect(matchedId(t, '/_Gateway/health/live')).toBe('param');
    });

    it('follows a custom prefix', () => {
      const custom = table([{ id: 'everything', path: '/*' }], '/_mgmt');
      expect(match(custom, '/_mgmt/health/live')).toEqual({ kind: 'no_route' });
      expect(match(custom, '/_mgmt')).toEqual({ kind: 'no_route' });
      expect(matchedId(custom, '/_gateway/health/live')).toBe('everything');
    });
  });

  describe('* tail', () => {
    const t = table([{ id: 'files', path: '/files/*', rewrite: '/store/*' }]);

    it('matches the bare prefix', () => {
      expect(matchedId(t, '/files')).toBe('files');
      expect(matchedId(t, '/files/')).toBe('files');
    });

    it('matches one and several segments deeper', () => {
      expect(upstreamPath(t, '/files/a')).toBe('/store/a');
      expect(upstreamPath(t, '/files/a/b/c')).toBe('/store/a/b/c');
      expect(upstreamPath(t, '/files/a/b/')).toBe('/store/a/b/');
    });

    it('does not match a sibling that only shares characters', () => {
      expect(matchedId(t, '/filesx')).toBe('no_route');
      expect(matchedId(t, '/filesx/a')).toBe('no_route');
      expect(matchedId(t, '/')).toBe('no_route');
      expect(matchedId(t, '/other/files/a')).toBe('no_route');
    });
  });

  describe('other path shapes', () => {
    it('the root route matches only /', () => {
      const t = table([{ id: 'root', path: '/' }]);
      expect(matchedId(t, '/')).toBe('root');
      expect(matchedId(t, '/x')).toBe('no_route');
    });

    it('a :param never matches an empty segment', () => {
      const t = table([{ id: 'one', path: '/api/users/:id' }]);
      expect(matchedId(t, '/api/users/')).toBe('no_route');
      expect(matchedId(t, '/api/users')).toBe('no_route');
      expect(matchedId(t, '/api/users/1/2')).toBe('no_route');
    });

    it('static paths match exactly, including case', () => {
      const t = table([{ id: 'me', path: '/api/users/me' }]);
      expect(matchedId(t, '/api/users/me')).toBe('me');
      expect(matchedId(t, '/API/users/me')).toBe('no_route');
      expect(matchedId(t, '/api/users/me/x')).toBe('no_route');
      expect(matchedId(t, '/api/users')).toBe('no_route');
    });

    it('exposes the compiled routes in file order', () => {
      const t = table([{ id: 'b', path: '/b' }, { id: 'r', pathRegex: '^/r' }, { id: 'a', path: '/a' }]);
      expect(t.routes.map((r) => r.id)).toEqual(['b', 'r', 'a']);
    });
  });

  describe('a table of 10,000 routes', () => {
    const SERVICES = 2_000;

    /** A deterministic shuffle (LCG), so file order does not follow specificity. */
    function shuffled<T>(items: readonly T[]): T[] {
      const out = items.slice();
      let seed = 12345;
      for (let i = out.length - 1; i > 0; i--) {
        seed = (seed * 1103515245 + 12345) % 2147483648;
        const j = seed % (i + 1);
        [out[i], out[j]] = [out[j], out[i]];
      }
      return out;
    }

    const inputs: RouteInput[] = [];
    for (let i = 0; i < SERVICES; i++) {
      inputs.push(
        { id: `s${i}-static`, path: `/svc${i}/items/all`, methods: ['GET'] },
        { id: `s${i}-param`, path: `/svc${i}/items/:id`, rewrite: `/v${i}/items/:id` },
        { id: `s${i}-tail`, path: `/svc${i}/*`, stripPrefix: `/svc${i}` },
        { id: `s${i}-host`, path: `/svc${i}/admin`, host: `h${i}.example.com` },
        { id: `s${i}-regex`, pathRegex: `^/legacy${i}/` },
      );
    }
    const t = table(shuffled(inputs));

    it('holds every route', () => {
      expect(t.routes).toHaveLength(10_000);
    });

    it.each([0, 1, 7, 999, 1000, 1234, 1999])('still finds the right route for service %i', (i) => {
      expect(matchedId(t, `/svc${i}/items/all`)).toBe(`s${i}-static`);
      expect(matchedId(t, `/svc${i}/admin`, { host: `h${i}.example.com` })).toBe(`s${i}-host`);
      expect(matchedId(t, `/svc${i}/admin`, { host: `h${i + 1}.example.com` })).toBe(`s${i}-tail`);
      expect(upstreamPath(t, `/svc${i}/items/42`)).toBe(`/v${i}/items/42`);
      expect(matchedId(t, `/svc${i}/items/42`)).toBe(`s${i}-param`);
      expect(upstreamPath(t, `/svc${i}/other/deep/path`)).toBe('/other/deep/path');
      expect(matchedId(t, `/svc${i}/other/deep/path`)).toBe(`s${i}-tail`);
      expect(matchedId(t, `/svc${i}/items/all`, { method: 'POST' })).toBe(`s${i}-param`);
      expect(matchedId(t, `/legacy${i}/x`)).toBe(`s${i}-regex`);
    });

    it('misses cleanly', () => {
      expect(matchedId(t, `/svc${SERVICES}/items/all`)).toBe('no_route');
      expect(matchedId(t, '/nowhere')).toBe('no_route');
      expect(matchedId(t, '/_gateway/health/live')).toBe('no_route');
    });
  });
});
