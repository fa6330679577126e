import { expectGatewayError } from '../support/gateway-error-assertions';
import { parseRawResponse, rawExchange } from '../support/http';
import { testResources } from '../support/test-resources';

/*
 * Input that means one thing to the gateway and another to the upstream: client-sent
 * forwarding headers that claim a different client or entry point, and path separators in
 * disguise that match `/public/*` here but resolve to `/admin` in Tomcat, Spring or IIS.
 */

const resources = testResources();

async function gatewayOver(server: Record<string, unknown> = {}): Promise<{ port: number; seen: () => Array<{ url: string; headers: Record<string, unknown> }> }> {
  const upstream = await resources.upstream();
  const gateway = await resources.gatewayWith({
    server,
    upstreams: { app: { targets: [upstream.url] } },
    routes: [
      { id: 'public', path: '/public/*', upstream: 'app' },
      { id: 'files', path: '/files/*', upstream: 'app' },
    ],
  });
  return { port: gateway.port, seen: () => upstream.requests.map((r) => ({ url: r.url, headers: r.headers })) };
}

const get = (port: number, target: string, headers = ''): Promise<string> =>
  rawExchange(port, `GET ${target} HTTP/1.1\r\nHost: gw\r\nConnection: close\r\n${headers}\r\n`);

const SPOOFED = [
  'Forwarded: for=10.0.0.1;proto=https;host=admin.internal',
  'X-Real-IP: 10.0.0.1',
  'X-Forwarded-Port: 8443',
  'X-Forwarded-Prefix: /admin',
  'X-Forwarded-For: 10.0.0.1',
  'X-Forwarded-Host: admin.internal',
  'X-Forwarded-Proto: https',
  'True-Client-IP: 10.0.0.1',
  'X-Client-IP: 10.0.0.1',
  'X-Cluster-Client-IP: 10.0.0.1',
  'X-Forwarded-Scheme: https',
  'X-Forwarded-Ssl: on',
  'X-Original-URL: /admin',
  'X-Rewrite-URL: /admin',
  'X-Original-Host: admin.internal',
].join('\r\n');

describe('forwarding headers a client sends about itself', () => {
  it('are dropped or overwritten when trustProxy is false', async () => {
    const gateway = await gatewayOver();
    const res = parseRawResponse(await get(gateway.port, '/public/x', `${SPOOFED}\r\n`));
    expect(res.status).toBe(200);
    const [sent] = gateway.seen();
    expect(sent.headers).toMatchObject({ 'x-forwarded-for': '127.0.0.1', 'x-forwarded-host': 'gw', 'x-forwarded-proto': 'http' });
    const claims = ['forwarded', 'x-real-ip', 'x-forwarded-port', 'x-forwarded-prefix', 'true-client-ip', 'x-client-ip', 'x-cluster-client-ip'];
    claims.push('x-forwarded-scheme', 'x-forwarded-ssl', 'x-original-url', 'x-rewrite-url', 'x-original-host');
    for (const name of claims) {
      expect({ [name]: sent.headers[name] }).toEqual({ [name]: undefined });
    }
  });

  it('pass through from a trusted proxy when trustProxy is true', async () => {
    const gateway = await gatewayOver({ trustProxy: true });
    parseRawResponse(await get(gateway.port, '/public/x', `${SPOOFED}\r\n`));
    const [sent] = gateway.seen();
    expect(sent.headers).toMatchObject({
      forwarded: 'for=10.0.0.1;proto=https;host=admin.internal',
      'x-real-ip': '10.0.0.1',
      'x-forwarded-port': '8443',
      'x-forwarded-prefix': '/admin',
      'x-forwarded-for': '10.0.0.1, 127.0.0.1',
    });
  });
});

describe('path separators in disguise', () => {
  it.each(['/public/..%2Fadmin', '/public/%2e%2e%2fadmin', '/public/..%5Cadmin', '/public/..;/admin', '/public/..\\admin', '/public/..%3B/admin'])(
    '%s gets 400 bad_request and never reaches the upstream',
    async (target) => {
      const gateway = await gatewayOver();
      const res = parseRawResponse(await get(gateway.port, target));
      expectGatewayError(res, 400, 'bad_request', null);
      expect(gateway.seen()).toEqual([]);
    },
  );

  it('with pathEscapedSlashes: keep, %2F inside a segment passes to the upstream as it is', async () => {
    const gateway = await gatewayOver({ pathEscapedSlashes: 'keep' });
    const res = parseRawResponse(await get(gateway.port, '/files/reports%2F2026%2Fq3.pdf'));
    expect(res.status).toBe(200);
    expect(gateway.seen().map((r) => r.url)).toEqual(['/files/reports%2F2026%2Fq3.pdf']);
  });

  it('with pathEscapedSlashes: keep, an encoded slash that hides a dot segment still gets 400', async () => {
    const gateway = await gatewayOver({ pathEscapedSlashes: 'keep' });
    const res = parseRawResponse(await get(gateway.port, '/public/x%2F..%2F..%2Fadmin'));
    expectGatewayError(res, 400, 'bad_request', null);
    expect(gateway.seen()).toEqual([]);
  });

  it.each(['/public/#/../%%32e%%32e/admin', '/admin#x', '/public/a?q=1#frag'])('%s (a fragment in the target) gets 400 and never reaches the upstream', async (target) => {
    const gateway = await gatewayOver();
    const res = parseRawResponse(await get(gateway.port, target));
    expectGatewayError(res, 400, 'bad_request', null);
    expect(gateway.seen()).toEqual([]);
  });

  it('by default, %2F in a path gets 400 whatever it hides', async () => {
    const gateway = await gatewayOver();
    const res = parseRawResponse(await get(gateway.port, '/files/reports%2F2026'));
    expectGatewayError(res, 400, 'bad_request', null);
    expect(gateway.seen()).toEqual([]);
  });
});
