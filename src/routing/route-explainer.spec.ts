import type { IncomingHttpHeaders } from 'node:http';
import { routeTable, type RouteInput } from '../../test/support/route-settings';
import { normalisePath } from './path-normaliser';
import { explainRoute, type RouteExplanation } from './route-explainer';
import { RouteTable } from './route-table';

const table = routeTable;

interface RequestOptions {
  readonly method?: string;
  readonly host?: string;
  readonly headers?: IncomingHttpHeaders;
}

function explain(t: RouteTable, path: string, options: RequestOptions = {}, escaped: 'reject' | 'keep' = 'reject'): RouteExplanation {
  const request = { method: options.method ?? 'GET', path, host: options.host, headers: options.headers ?? {} };
  return explainRoute(t, request, escaped);
}

function reasonsOf(explanation: RouteExplanation): Record<string, readonly string[]> {
  return Object.fromEntries(explanation.candidates.map((c) => [c.route, c.reasons]));
}

describe('explainRoute', () => {
  it('names the winner and the rewritten upstream path with the query kept', () => {
    const t = table([
      { id: 'orders', path: '/api/orders/:id' },
      { id: 'user', path: '/api/users/:id', rewrite: '/v1/users/:id' },
    ]);
    const result = explain(t, '/api//users/./42?expand=1&x=%2f');
    expect(result).toMatchObject({
      request: { method: 'GET', path: '/api/users/42', host: '' },
      outcome: 'route',
      status: null,
      message: null,
      route: 'user',
      allow: null,
      upstreamPath: '/v1/users/42?expand=1&x=%2f',
    });
    expect(result.candidates).toEqual([
      { route: 'orders', matched: false, reasons: ['path: /api/orders/:id does not match /api/users/42'] },
      { route: 'user', matched: true, reasons: [] },
    ]);
  });

  it('explains a 405 with the Allow list and the method each path-matching route refused', () => {
    const t = table([
      { id: 'read', path: '/x', methods: ['GET', 'HEAD'] },
      { id: 'write', path: '/:any', methods: ['PUT'] },
      { id: 'other', path: '/y' },
    ]);
    const result = explain(t, '/x', { method: 'POST' });
    expect(result).toMatchObject({ outcome: 'method_not_allowed', status: 405, route: null, upstreamPath: null });
    expect(result.allow).toEqual(['GET', 'HEAD', 'PUT']);
    expect(result.message).toBe('POST is not allowed on /x');
    expect(reasonsOf(result)).toEqual({
      read: ['method: POST not in GET, HEAD'],
      write: ['method: POST not in PUT'],
      other: ['path: /y does not match /x'],
    });
  });

  it('compares the host lower-case without its port, exact and wildcard', () => {
    const t = table([
      { id: 'exact', path: '/x', host: 'api.example.com' },
      { id: 'wild', path: '/x', host: '*.example.com' },
      { id: 'fallback', path: '/*' },
    ]);
    const other = explain(t, '/x', { host: 'Other.Example.COM:8080' });
    expect(other.request.host).toBe('other.example.com');
    expect(other.route).toBe('wild');
    expect(reasonsOf(other).exact).toEqual(['host: api.example.com does not match other.example.com']);

    const bare = explain(t, '/x', { host: 'example.com' });
    expect(bare.route).toBe('fallback');
    expect(reasonsOf(bare).wild).toEqual(['host: *.example.com does not match example.com']);
    expect(reasonsOf(explain(t, '/x')).exact).toEqual(['host: api.example.com does not match (no host)']);
  });

  it('lists every failing header with the value it got', () => {
    const t = table([{ id: 'acme', path: '/x', headers: { 'x-tenant': 'acme', 'x-env': 'prod' } }]);
    const result = explain(t, '/x', { headers: { 'x-tenant': 'other' } });
    expect(result.outcome).toBe('no_route');
    expect(reasonsOf(result).acme).toEqual(['header x-tenant: expected "acme", got "other"', 'header x-env: expected "prod", absent']);
    expect(explain(t, '/x', { headers: { 'x-tenant': 'acme', 'x-env': 'prod' } }).route).toBe('acme');
  });

  it('explains a 404 with every failing predicate of every route', () => {
    const t = table([
      { id: 'users', path: '/api/users/:id', methods: ['GET'], host: 'api.example.com' },
      { id: 'legacy', pathRegex: '^/v[0-9]+/', headers: { 'x-tenant': 'acme' } },
      { id: 'files', path: '/files/*', methods: ['PUT'] },
    ]);
    const result = explain(t, '/api/users/', { method: 'DELETE', host: 'a.example.com' });
    expect(result).toMatchObject({ outcome: 'no_route', status: 404, route: null, allow: null, upstreamPath: null });
    expect(result.message).toBe('no route for DELETE /api/users/');
    expect(reasonsOf(result)).toEqual({
      users: [
        'path: /api/users/:id does not match /api/users/',
        'method: DELETE not in GET',
        'host: api.example.com does not match a.example.com',
      ],
      legacy: ['pathRegex: ^/v[0-9]+/ does not match /api/users/', 'header x-tenant: expected "acme", absent'],
      files: ['path: /files/* does not match /api/users/', 'method: DELETE not in PUT'],
    });
  });

  it('says a less specific route lost on specificity, whatever the file order', () => {
    const t = table([
      { id: 'tail', path: '/api/*' },
      { id: 'one', path: '/api/users/:id' },
      { id: 'me', path: '/api/users/me' },
    ]);
    const result = explain(t, '/api/users/me');
    expect(result.route).toBe('me');
    expect(reasonsOf(result)).toEqual({
      tail: ['specificity: matches, but me is more specific'],
      one: ['specificity: matches, but me is more specific'],
      me: [],
    });
    expect(reasonsOf(explain(t, '/api/users/7')).tail).toEqual(['specificity: matches, but one is more specific']);
  });

  it('says an equally specific route lost on file order', () => {
    const t = table([
      { id: 'b', path: '/x/:b' },
      { id: 'a', path: '/x/:a' },
    ]);
    const result = explain(t, '/x/1');
    expect(result.route).toBe('b');
    expect(reasonsOf(result).a).toEqual(['order: matches equally, but b comes first in the file']);
  });

  it('says regex routes are tried after path routes, and in file order', () => {
    const t = table([
      { id: 'regex', pathRegex: '^/api/' },
      { id: 'later-regex', pathRegex: '^/api/o' },
      { id: 'path', path: '/api/users' },
    ]);
    const users = explain(t, '/api/users');
    expect(users.route).toBe('path');
    expect(reasonsOf(users).regex).toEqual(['order: regex routes are tried after path routes; path matched first']);
    const orders = explain(t, '/api/orders');
    expect(orders.route).toBe('regex');
    expect(reasonsOf(orders)['later-regex']).toEqual(['order: regex routes are tried in file order; regex comes first']);
  });

  it('refuses a disguised separator with 400 before any route is tried', () => {
    const t = table([{ id: 'public', path: '/public/*' }]);
    const refused = 'refused: an encoded slash (%2F or %5C) in the path (server.pathEscapedSlashes: reject)';
    const result = explain(t, '/public/..%2fadmin');
    expect(result).toMatchObject({ outcome: 'bad_request', status: 400, message: refused, route: null, upstreamPath: null });
    expect(result.candidates).toEqual([{ route: 'public', matched: false, reasons: [refused] }]);
    expect(explain(t, '/public/a%2fb', {}, 'keep')).toMatchObject({ outcome: 'route', upstreamPath: '/public/a%2Fb' });
    expect(explain(t, '/public/a\\b', {}, 'keep').message).toBe('refused: a backslash in the path');
  });

  it('never routes the management prefix, and says it is reserved', () => {
    const t = table([{ id: 'everything', path: '/*' }]);
    const result = explain(t, '/api/../_gateway/health/live');
    const reserved = "management: /_gateway is reserved for the gateway's own endpoints; /_gateway/health/live is never routed";
    expect(result).toMatchObject({ outcome: 'no_route', status: 404, message: reserved, route: null });
    expect(result.candidates).toEqual([{ route: 'everything', matched: false, reasons: [reserved] }]);
    expect(explain(t, '/_gatewayx').route).toBe('everything');
  });

  describe('agrees with RouteTable.match', () => {
    const inputs: RouteInput[] = [
      { id: 'tail', path: '/api/*', methods: ['GET', 'PUT'], stripPrefix: '/api' },
      { id: 'user', path: '/api/users/:id', methods: ['GET'], rewrite: '/v1/users/:id' },
      { id: 'me', path: '/api/users/me', headers: { 'x-tenant': 'acme' } },
      { id: 'me-host', path: '/api/users/me', host: '*.example.com', methods: ['POST'] },
      { id: 'files', path: '/files/:name/*', host: 'files.example.com' },
      { id: 'regex', pathRegex: '^/(api|v[0-9]+)/', methods: ['DELETE'] },
      { id: 'root', path: '/' },
      { id: 'root-regex', pathRegex: '^/v1/', rewrite: '/legacy/' },
    ];
    const t = table(inputs);
    const paths = ['/api/users/me', '/api/users/7?q=1', '/api', '/files/a/b/c', '/files/a', '/v1/x', '/', '/other', '/_gateway/x'];
    const methods = ['GET', 'POST', 'DELETE', 'PATCH'];
    const hosts = [undefined, 'a.example.com', 'FILES.example.com:443'];
    const headerSets: IncomingHttpHeaders[] = [{}, { 'x-tenant': 'acme' }];

    // A deterministic LCG picks ~30 combinations, so the cases are stable across runs.
    let seed = 1;
    const pick = <T>(items: readonly T[]): T => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return items[Math.floor(seed / 65536) % items.length]; // the low bits of an LCG cycle quickly
    };
    const requests = Array.from({ length: 32 }, () => ({
      path: pick(paths),
      method: pick(methods),
      host: pick(hosts),
      headers: pick(headerSets),
    }));

    it.each(requests.map((r) => [`${r.method} ${r.path} host=${r.host} ${JSON.stringify(r.headers)}`, r]))('%s', (_name, request) => {
      const r = request as (typeof requests)[number];
      const result = explainRoute(t, r, 'reject');
      const queryAt = r.path.indexOf('?');
      const path = normalisePath(queryAt === -1 ? r.path : r.path.slice(0, queryAt));
      const expected = t.match({ ...r, path });
      expect(result.outcome).toBe(expected.kind);
      expect(result.route).toBe(expected.kind === 'route' ? expected.route.id : null);
      expect(result.allow).toEqual(expected.kind === 'method_not_allowed' ? expected.allow : null);
      if (expected.kind === 'route') expect(result.upstreamPath).toBe(expected.upstreamPath + (queryAt === -1 ? '' : r.path.slice(queryAt)));
      for (const [i, candidate] of result.candidates.entries()) {
        expect(candidate.route).toBe(inputs[i].id);
        expect(candidate.reasons.length === 0).toBe(candidate.matched);
        expect(candidate.matched).toBe(candidate.route === result.route);
        // Each route's predicate reasons must agree with a table holding that route alone.
        const alone = table([inputs[i]]).match({ ...r, path });
        const predicatesPass = candidate.matched || candidate.reasons.every((reason) => /^(order|specificity):/.test(reason));
        if (!path.startsWith('/_gateway/')) expect(predicatesPass).toBe(alone.kind === 'route');
        if (candidate.reasons.some((reason) => reason.startsWith('order: matches equally'))) {
          expect(inputs.findIndex((input) => input.id === result.route)).toBeLessThan(i);
        }
      }
    });

    it('covers every outcome and every route winning or losing on order', () => {
      const results = requests.map((r) => explainRoute(t, r, 'reject'));
      expect(new Set(results.map((r) => r.outcome))).toEqual(new Set(['route', 'no_route', 'method_not_allowed']));
      const reasons = results.flatMap((r) => r.candidates.flatMap((c) => c.reasons));
      expect(reasons.some((reason) => reason.startsWith('specificity:'))).toBe(true);
      expect(reasons.some((reason) => reason.startsWith('order:'))).toBe(true);
    });
  });
});
