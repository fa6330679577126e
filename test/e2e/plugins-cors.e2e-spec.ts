import type { IncomingMessage, ServerResponse } from 'node:http';
import type { RunningGateway } from '../../src/bootstrap';
import { expectGatewayError } from '../support/gateway-error-assertions';
import { startTestGateway } from '../support/gateway-fixture';
import { call, type TestResponse } from '../support/http';
import { headerOf, startFailure } from '../support/plugins/plugin-gateway';
import { startUpstream, type UpstreamFixture } from '../support/upstream-fixture';

/*
 * docs/plugins.md "Plugins" `cors`: preflights answered 204 by the gateway (never forwarded), also on a
 * route whose methods leave out OPTIONS, or refused 403 forbidden; other requests forwarded,
 * with Access-Control-* headers only for an allowed origin and Vary: Origin always.
 */

const A = 'https://a.example';
const B = 'https://b.example';
const EVIL = 'https://evil.example';

let upstream: UpstreamFixture;
let gateway: RunningGateway;

/** Answers 200 with a Vary of its own and the headers the app route exposes. */
function appHandler(req: IncomingMessage, res: ServerResponse): void {
  req.resume();
  req.on('end', () => res.writeHead(200, { 'content-type': 'application/json', vary: 'Accept-Encoding', 'x-total': '3', 'x-upstream': 'app' }).end('{}'));
}

const cors = (config: Record<string, unknown>): unknown[] => [{ name: 'cors', config }];
const preflight = (path: string, origin: string, method: string, headers?: string): Promise<TestResponse> =>
  call(`${gateway.url}${path}`, {
    method: 'OPTIONS',
    headers: { origin, 'access-control-request-method': method, ...(headers === undefined ? {} : { 'access-control-request-headers': headers }) },
  });
const get = (path: string, headers: Record<string, string> = {}): Promise<TestResponse> => call(`${gateway.url}${path}`, { headers });
const varyOf = (res: TestResponse): string[] => (headerOf(res, 'vary') ?? '').split(',').map((v) => v.trim().toLowerCase());
/** OPTIONS requests the upstream got, after a request through the gateway as a barrier (a preflight leaking on would arrive first). */
const optionsSeen = async (): Promise<number> => {
  expect((await get('/app/barrier')).status).toBe(200);
  return upstream.requests.filter((r) => r.method === 'OPTIONS').length;
};

beforeAll(async () => {
  process.env.CORS_SPEC_KEYS = `{k: ${'0'.repeat(64)}}`; // digits only: still read as a digest, not a number
  upstream = await startUpstream(appHandler);
  gateway = await startTestGateway({
    upstreams: { app: { targets: [upstream.url] } },
    routes: [
      {
        id: 'app',
        path: '/app/*',
        upstream: 'app',
        plugins: cors({ origins: [A, B], methods: ['GET', 'POST', 'PUT'], headers: ['content-type', 'x-trace-tag'], exposedHeaders: ['x-total', 'x-upstream'], credentials: true, maxAgeSeconds: 600 }),
      },
      { id: 'get-only', path: '/get-only', methods: ['GET'], upstream: 'app', plugins: cors({ origins: [A] }) },
      { id: 'open', path: '/open', upstream: 'app', plugins: cors({ origins: ['*'] }) },
      {
        id: 'keyed',
        path: '/keyed',
        upstream: 'app',
        plugins: [...cors({ origins: [A] }), { name: 'api-key', config: { keysEnv: 'CORS_SPEC_KEYS' } }],
      },
    ],
  });
});

afterAll(async () => {
  delete process.env.CORS_SPEC_KEYS;
  await upstream.close();
  await gateway.close();
});

describe('preflight', () => {
  it('allowed: 204 with every Access-Control-* header and Vary, and the upstream never sees it', async () => {
    const res = await preflight('/app/orders', B, 'PUT', 'Content-Type, X-Trace-Tag');
    expect(res.status).toBe(204);
    expect(res.text).toBe('');
    expect(res.headers).toMatchObject({
      'access-control-allow-origin': B,
      'access-control-allow-methods': 'GET, POST, PUT',
      'access-control-allow-headers': 'content-type, x-trace-tag',
      'access-control-allow-credentials': 'true',
      'access-control-max-age': '600',
    });
    expect(varyOf(res)).toEqual(expect.arrayContaining(['origin', 'access-control-request-method', 'access-control-request-headers']));
    expect(await optionsSeen()).toBe(0);
  });

  it('on a route with methods [GET] (no OPTIONS): still answered 204; a method it does not serve, or no Origin, stays 405', async () => {
    const res = await preflight('/get-only', A, 'GET');
    expect(res.status).toBe(204);
    expect(res.headers['access-control-allow-origin']).toBe(A);
    expect(res.headers['access-control-allow-methods']).toBe('GET, HEAD, PUT, PATCH, POST, DELETE');
    // Not configured on this route.
    expect(res.headers['access-control-allow-credentials']).toBeUndefined();
    expect(res.headers['access-control-max-age']).toBeUndefined();
    expect(res.headers['access-control-allow-headers']).toBeUndefined();
    expectGatewayError(await preflight('/get-only', A, 'POST'), 405, 'method_not_allowed', null);
    const bare = await call(`${gateway.url}/get-only`, { method: 'OPTIONS', headers: { 'access-control-request-method': 'GET' } });
    expectGatewayError(bare, 405, 'method_not_allowed', null);
    expect(await optionsSeen()).toBe(0);
  });

  it.each([
    ['an origin not listed', EVIL, 'GET', undefined],
    ['an origin differing only in scheme', 'http://a.example', 'GET', undefined],
    ['a method not listed', A, 'DELETE', undefined],
    ['a header not listed', A, 'POST', 'content-type, x-other'],
  ])('refused for %s: 403 forbidden JSON without Access-Control-Allow-Origin', async (_what, origin, method, headers) => {
    const res = await preflight('/app/orders', origin, method, headers);
    expectGatewayError(res, 403, 'forbidden', 'app');
    expect(res.headers['access-control-allow-origin']).toBeUndefined();
    expect(await optionsSeen()).toBe(0);
  });

  it('origins [*]: Access-Control-Allow-Origin *, whatever headers the preflight asks for', async () => {
    const res = await preflight('/open', EVIL, 'POST', 'x-anything');
    expect(res.status).toBe(204);
    expect(res.headers['access-control-allow-origin']).toBe('*');
    expect(res.headers['access-control-allow-headers']).toBe('x-anything');
    expect(await optionsSeen()).toBe(0);
  });
});

describe('other requests', () => {
  it('from an allowed origin: forwarded, with Allow-Origin, credentials, exposed headers and Vary with Origin added to the upstream’s', async () => {
    const before = upstream.requests.length;
    const res = await get('/app/orders', { origin: A });
    expect(res.status).toBe(200);
    expect(upstream.requests.length - before).toBe(1);
    expect(res.headers).toMatchObject({
      'access-control-allow-origin': A,
      'access-control-allow-credentials': 'true',
      'access-control-expose-headers': 'x-total, x-upstream',
      'x-total': '3',
    });
    expect(varyOf(res)).toEqual(['accept-encoding', 'origin']);
  });

  it('from a disallowed origin: forwarded, no Access-Control-* header, still Vary: Origin', async () => {
    const before = upstream.requests.length;
    const res = await get('/app/orders', { origin: EVIL });
    expect(res.status).toBe(200);
    expect(upstream.requests.length - before).toBe(1);
    expect(Object.keys(res.headers).filter((h) => h.startsWith('access-control-'))).toEqual([]);
    expect(varyOf(res)).toEqual(['accept-encoding', 'origin']);
  });

  it('without Origin: no Access-Control-* header', async () => {
    const res = await get('/app/orders');
    expect(res.status).toBe(200);
    expect(Object.keys(res.headers).filter((h) => h.startsWith('access-control-'))).toEqual([]);
  });

  it('origins [*]: Access-Control-Allow-Origin *, no credentials', async () => {
    const res = await get('/open', { origin: B });
    expect(res.status).toBe(200);
    expect(res.headers['access-control-allow-origin']).toBe('*');
    expect(res.headers['access-control-allow-credentials']).toBeUndefined();
  });
});

describe('config', () => {
  it('refuses origins [*] with credentials true, and an origin with a path, naming the fields', async () => {
    const lines = await startFailure({
      upstreams: { app: { targets: ['http://127.0.0.1:9'] } },
      routes: [
        { id: 'star', path: '/star', upstream: 'app', plugins: cors({ origins: ['*'], credentials: true }) },
        { id: 'path', path: '/path', upstream: 'app', plugins: cors({ origins: ['https://a.example/app'] }) },
      ],
    });
    expect(lines).toEqual([
      expect.stringMatching(/^config: routes\[0\]\.plugins\[0\]\.config(\.|: )origins: \* cannot be combined with credentials: true/),
      expect.stringMatching(/^config: routes\[1\]\.plugins\[0\]\.config\.origins: /),
    ]);
  });

  // KNOWN BUG (docs/plugins.md "Plugins" shows `config: routes[3].plugins[1].config.origins: * cannot be
  // combined...`): src/plugins/plugin-chain.ts:61 writes an Error from configure() as
  // `...config: origins: ...`, so the field is not in the path. Remove `.failing` once it is.
  it('names the field in the path as docs/plugins.md "Plugins" shows: config.origins', async () => {
    const lines = await startFailure({
      upstreams: { app: { targets: ['http://127.0.0.1:9'] } },
      routes: [{ id: 'star', path: '/star', upstream: 'app', plugins: cors({ origins: ['*'], credentials: true }) }],
    });
    expect(lines).toEqual(['config: routes[0].plugins[0].config.origins: * cannot be combined with credentials: true; list the origins']);
  });
});

describe('errors the gateway answers itself', () => {
  it('carry the CORS headers too, so the browser shows the 401 rather than a CORS failure', async () => {
    const res = await get('/keyed', { origin: A });
    expectGatewayError(res, 401, 'unauthorized', 'keyed');
    expect(res.headers['access-control-allow-origin']).toBe(A);
    expect(varyOf(res)).toContain('origin');
    expect(res.headers['www-authenticate']).toMatch(/^ApiKey /);
    const other = await get('/keyed', { origin: EVIL });
    expectGatewayError(other, 401, 'unauthorized', 'keyed');
    expect(other.headers['access-control-allow-origin']).toBeUndefined();
  });
});
