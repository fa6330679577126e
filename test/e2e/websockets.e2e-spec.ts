import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import type { IncomingMessage } from 'node:http';
import WebSocket from 'ws';
import type { RunningGateway } from '../../src/bootstrap';
import { NotifyingLogCollector, startTestGateway } from '../support/gateway-fixture';
import { call } from '../support/http';
import { expectGatewayError } from '../support/gateway-error-assertions';
import { eventually, samplesOf } from '../support/metrics-text';
import { closedPort } from '../support/upstream-fixture';
import { wsEchoUpstream, type EchoUpstream } from '../support/ws-echo-upstream';

/*
 * docs/routing.md "WebSockets": upgrades go through route match, trace ids, plugins, rate limit and
 * permits; a permit is held for the socket's life; the handshake is bounded by timeoutMs; a
 * refused upgrade passes the upstream's answer back; closing either side closes the other.
 */

let upstream: EchoUpstream;
let gateway: RunningGateway;
const logs = new NotifyingLogCollector();

beforeAll(async () => {
  process.env.WS_SPEC_KEYS = `{k: ${createHash('sha256').update('ws-key-0001').digest('hex')}}`;
  upstream = await wsEchoUpstream();
  gateway = await startTestGateway(
    {
      upstreams: { ws: { targets: [upstream.url] }, dead: { targets: [`http://127.0.0.1:${await closedPort()}`] } },
      routes: [
        { id: 'chat', path: '/chat/*', methods: ['GET'], upstream: 'ws', stripPrefix: '/chat', concurrency: { limit: 10 }, timeoutMs: 500 },
        { id: 'bulk', path: '/bulk/*', methods: ['GET'], upstream: 'ws', stripPrefix: '/bulk' },
        { id: 'post-only', path: '/post-only', methods: ['POST'], upstream: 'ws' },
        { id: 'dead', path: '/dead', methods: ['GET'], upstream: 'dead' },
        { id: 'keyed', path: '/keyed', methods: ['GET'], upstream: 'ws', plugins: [{ name: 'api-key', config: { keysEnv: 'WS_SPEC_KEYS' } }] },
        { id: 'limited', path: '/limited', methods: ['GET'], upstream: 'ws', rateLimit: { limit: 1, windowMs: 60_000, key: 'route' } },
      ],
    },
    { logLevel: 'info' },
    logs,
  );
});

afterAll(async () => {
  delete process.env.WS_SPEC_KEYS;
  await upstream.close();
  await gateway.close();
});

const wsUrl = (path: string): string => `${gateway.url.replace('http', 'ws')}${path}`;

function connect(path: string, headers: Record<string, string> = {}): Promise<WebSocket> {
  const ws = new WebSocket(wsUrl(path), { headers });
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
    ws.once('unexpected-response', (_req, res) => reject(Object.assign(new Error(`status ${res.statusCode}`), { status: res.statusCode, res })));
  });
}

describe('WebSocket proxying', () => {
  it('echoes through the gateway, with trace ids on the upstream handshake', async () => {
    const ws = await connect('/chat/room1', { 'x-request-id': 'ws-req-1' });
    ws.send('hello');
    const [data] = (await once(ws, 'message')) as [Buffer];
    expect(data.toString()).toBe('hello');
    const handshake = upstream.handshakes.at(-1)!;
    expect(handshake.url).toBe('/room1');
    expect(handshake.headers['x-request-id']).toBe('ws-req-1');
    expect(handshake.headers.traceparent).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
    ws.close();
    await once(ws, 'close');
    const line = await logs.accessLineOf('ws-req-1');
    expect(line).toMatchObject({ status: 101, route: 'chat', upstream: 'ws' });
    // Bytes both ways: the handshake plus the frames.
    expect(line.bytesIn).toBeGreaterThan(5);
    expect(line.bytesOut).toBeGreaterThan(129);
  });

  it('100 sockets each echo 1 MiB both ways in frames of mixed sizes, in order', async () => {
    const sockets = await Promise.all(Array.from({ length: 100 }, (_, i) => connect(`/bulk/s${i}`)));
    await Promise.all(sockets.map((ws, i) => echoMiB(ws, i)));
    await Promise.all(sockets.map((ws) => closed(ws)));
    await expectGaugesAtZero();
  });

  it('with a route limit of 10, the 11th upgrade gets 429 concurrency_limit; permits come back when the sockets close', async () => {
    const ten = await Promise.all(Array.from({ length: 10 }, (_, i) => connect(`/chat/r${i}`)));
    expectGatewayError(await rawUpgrade('/chat/r10'), 429, 'concurrency_limit', 'chat');
    expect(await metric('gateway_permits_in_use', { scope: 'route', name: 'chat' })).toBe(10);
    expect(await metric('gateway_websockets_open', { route: 'chat' })).toBe(10);
    await Promise.all(ten.map((ws) => closed(ws)));
    await expectGaugesAtZero();
    const again = await connect('/chat/again');
    await closed(again);
  });

  it('closing from the client side closes the upstream side within a second, and the other way round', async () => {
    const ws = await connect('/chat/close-1');
    const serverSide = await lastServerSocket();
    const startedAt = Date.now();
    ws.terminate();
    await once(serverSide, 'close');
    expect(Date.now() - startedAt).toBeLessThan(1000);

    const ws2 = await connect('/chat/close-2');
    const serverSide2 = await lastServerSocket();
    const at2 = Date.now();
    serverSide2.terminate();
    await once(ws2, 'close');
    expect(Date.now() - at2).toBeLessThan(1000);
    await expectGaugesAtZero();
  });

  it('passes an upstream refusal of the upgrade back as the upstream answered it', async () => {
    const error = (await connect('/chat/refuse').catch((e: unknown) => e)) as { status: number; res: IncomingMessage };
    expect(error.status).toBe(403);
    expect(await bodyOf(error.res)).toBe('refused');
  });

  it('answers the JSON 502 for an unreachable upstream and 504 for a handshake over timeoutMs', async () => {
    expectGatewayError(await rawUpgrade('/dead'), 502, 'upstream_unreachable', 'dead');
    const startedAt = Date.now();
    expectGatewayError(await rawUpgrade('/chat/hang'), 504, 'upstream_timeout', 'chat');
    expect(Date.now() - startedAt).toBeGreaterThanOrEqual(450);
    await expectGaugesAtZero();
    // The gateway gave up the abandoned handshake's connection: the upstream sees it end.
    const hung = upstream.handshakes.find((h) => h.url === '/hang')!;
    await eventually(() => hung.socket.destroyed, 'the abandoned handshake closed at the upstream');
  });

  it('goes through route match, plugins and rate limits like any request', async () => {
    expectGatewayError(await rawUpgrade('/post-only'), 405, 'method_not_allowed', null);
    expectGatewayError(await rawUpgrade('/nowhere'), 404, 'no_route', null);
    expectGatewayError(await rawUpgrade('/keyed'), 401, 'unauthorized', 'keyed');
    const keyed = await connect('/keyed', { 'x-api-key': 'ws-key-0001' });
    expect(upstream.handshakes.at(-1)!.headers['x-consumer-id']).toBe('k');
    expect(upstream.handshakes.at(-1)!.headers['x-api-key']).toBeUndefined();
    await closed(keyed);
    const first = await connect('/limited');
    await closed(first);
    expectGatewayError(await rawUpgrade('/limited'), 429, 'rate_limited', 'limited');
  });
});

/** Sends 1 MiB in frames of mixed sizes (text and binary) and expects the same frames back, in order. */
async function echoMiB(ws: WebSocket, seed: number): Promise<void> {
  const frames: Buffer[] = [];
  let total = 0;
  for (let i = 0; total < 1024 * 1024; i++) {
    const size = Math.min(1024 * 1024 - total, [1, 125, 126, 65_535, 65_536, 200_000][(i + seed) % 6]);
    frames.push(randomBytes(size));
    total += size;
  }
  const received: Buffer[] = [];
  const done = new Promise<void>((resolve, reject) => {
    ws.on('message', (data: Buffer) => {
      received.push(data);
      if (received.length === frames.length) resolve();
    });
    ws.once('close', () => reject(new Error(`socket closed after ${received.length} of ${frames.length} frames`)));
  });
  for (const frame of frames) ws.send(frame, { binary: true });
  await done;
  expect(received.length).toBe(frames.length);
  for (let i = 0; i < frames.length; i++) if (!received[i].equals(frames[i])) throw new Error(`frame ${i} of socket ${seed} differs`);
}

function closed(ws: WebSocket): Promise<unknown> {
  if (ws.readyState === WebSocket.CLOSED) return Promise.resolve();
  const done = once(ws, 'close');
  ws.close();
  return done;
}

async function lastServerSocket(): Promise<WebSocket> {
  let found: WebSocket | undefined;
  await eventually(() => (found = [...upstream.wss.clients].at(-1)) !== undefined, 'the upstream side of the socket');
  return found!;
}

async function metric(name: string, labels: Record<string, string>): Promise<number> {
  const text = (await call(`${gateway.url}/_gateway/metrics`)).text;
  const sample = samplesOf(text, name).find((s) => Object.entries(labels).every(([k, v]) => s.labels[k] === v));
  return sample?.value ?? 0;
}

/** Every socket closed: no permit held, no WebSocket counted open. */
async function expectGaugesAtZero(): Promise<void> {
  await eventually(async () => {
    const text = (await call(`${gateway.url}/_gateway/metrics`)).text;
    const held = samplesOf(text, 'gateway_permits_in_use').reduce((sum, s) => sum + s.value, 0);
    const open = samplesOf(text, 'gateway_websockets_open').reduce((sum, s) => sum + s.value, 0);
    return held === 0 && open === 0;
  }, 'permits and open WebSockets back to 0');
}

function bodyOf(res: IncomingMessage): Promise<string> {
  return new Promise((resolve) => {
    let text = '';
    res.setEncoding('utf8');
    res.on('data', (chunk: string) => (text += chunk));
    res.on('end', () => resolve(text));
  });
}

/** A WebSocket handshake answered with something other than 101, read whole. */
async function rawUpgrade(path: string): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; text: string }> {
  const error = (await connect(path).then(
    (ws) => {
      ws.terminate();
      throw new Error(`${path} was upgraded`);
    },
    (e: unknown) => e,
  )) as { status?: number; res?: IncomingMessage };
  if (error.res === undefined) throw error;
  const answer = { status: error.res.statusCode ?? 0, headers: error.res.headers, text: await bodyOf(error.res) };
  error.res.socket.destroy();
  return answer;
}
