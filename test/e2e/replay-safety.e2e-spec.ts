import { createServer as createNetServer, type AddressInfo, type Socket } from 'node:net';
import { expectGatewayError } from '../support/gateway-error-assertions';
import { call } from '../support/http';
import { testResources } from '../support/test-resources';

/*
 * docs/errors.md "Errors and status codes": a request is replayed on a fresh connection only when the upstream cannot have
 * seen it (nothing of it was written) or when its method is idempotent. A POST the upstream
 * read before the connection broke is never sent twice: the client gets 502.
 */

const resources = testResources();

interface SeenRequest {
  readonly method: string;
  readonly path: string;
  /** How many requests this connection had served before this one (0: a fresh connection). */
  readonly servedBefore: number;
}

/**
 * A raw HTTP/1.1 upstream that reads each request whole, then answers `200 ok` (keep-alive),
 * or resets the connection without answering when `resets` says so: the upstream read the
 * request, acted on it, and died before answering.
 */
async function readThenResetUpstream(resets: (request: SeenRequest, index: number) => boolean): Promise<{ url: string; seen: SeenRequest[] }> {
  const seen: SeenRequest[] = [];
  const sockets = new Set<Socket>();
  const server = createNetServer((socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    socket.setEncoding('latin1');
    let buffered = '';
    let served = 0;
    socket.on('data', (chunk: string) => {
      buffered += chunk;
      let end: number;
      while ((end = buffered.indexOf('\r\n\r\n')) !== -1) {
        const head = buffered.slice(0, end);
        const length = Number(/\r\ncontent-length:\s*(\d+)/i.exec(head)?.[1] ?? 0);
        if (buffered.length < end + 4 + length) return;
        buffered = buffered.slice(end + 4 + length);
        const [method, path] = head.split(' ');
        const request = { method, path, servedBefore: served };
        seen.push(request);
        if (resets(request, seen.length - 1)) {
          socket.resetAndDestroy();
          return;
        }
        served++;
        socket.write('HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\nok');
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  resources.addCloser(
    () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  );
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen };
}

describe('replaying a request after its upstream connection broke', () => {
  it('a body-less POST that the upstream read and then reset on is sent exactly once: 502', async () => {
    const upstream = await readThenResetUpstream((request) => request.method === 'POST');
    const gateway = await resources.gatewayWith({
      upstreams: { orders: { targets: [upstream.url] } },
      routes: [{ id: 'orders', path: '/orders', upstream: 'orders' }],
    });

    const res = await call(`${gateway.url}/orders`, { method: 'POST' });

    expectGatewayError({ status: res.status, headers: res.headers, text: res.text }, 502, 'upstream_unreachable', 'orders');
    expect(upstream.seen.map((r) => `${r.method} ${r.path}`)).toEqual(['POST /orders']);
  });

  it('a POST with a body, read and reset on a reused keep-alive connection, is sent exactly once: 502', async () => {
    const upstream = await readThenResetUpstream((request) => request.method === 'POST');
    const gateway = await resources.gatewayWith({
      upstreams: { orders: { targets: [upstream.url] } },
      routes: [{ id: 'orders', path: '/orders', upstream: 'orders' }],
    });

    expect((await call(`${gateway.url}/orders`)).status).toBe(200);
    const res = await call(`${gateway.url}/orders`, { method: 'POST', body: '{"item":1}', headers: { 'content-type': 'application/json' } });

    expect(res.status).toBe(502);
    expect(upstream.seen.map((r) => `${r.method} ${r.path} after ${r.servedBefore}`)).toEqual(['GET /orders after 0', 'POST /orders after 1']);
  });

  it('a GET that the upstream read and then reset on is replayed once on a fresh connection (idempotent): 200', async () => {
    const upstream = await readThenResetUpstream((_request, index) => index === 0);
    const gateway = await resources.gatewayWith({
      upstreams: { catalog: { targets: [upstream.url] } },
      routes: [{ id: 'catalog', path: '/items', upstream: 'catalog' }],
    });

    const res = await call(`${gateway.url}/items`);

    expect(res.status).toBe(200);
    expect(res.text).toBe('ok');
    expect(upstream.seen.map((r) => `${r.method} ${r.path} after ${r.servedBefore}`)).toEqual(['GET /items after 0', 'GET /items after 0']);
  });

  it('a GET is replayed at most once: a second reset gets 502 and the upstream saw it twice', async () => {
    const upstream = await readThenResetUpstream(() => true);
    const gateway = await resources.gatewayWith({
      upstreams: { catalog: { targets: [upstream.url] } },
      routes: [{ id: 'catalog', path: '/items', upstream: 'catalog' }],
    });

    const res = await call(`${gateway.url}/items`);

    expect(res.status).toBe(502);
    expect(upstream.seen).toHaveLength(2);
  });
});
