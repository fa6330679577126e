import { createHash, randomBytes, randomInt } from 'node:crypto';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { resolve } from 'node:path';
import { Client } from 'undici';
import WebSocket from 'ws';
import { startGatewayProcess, type GatewayProcess } from '../support/gateway-process';
import { restingRssMiB, settled } from '../support/gc-figures';
import { call } from '../support/http';
import { samplesOf } from '../support/metrics-text';
import { echoHandler, type EchoBody } from '../support/upstream-fixture';
import { wsEchoUpstream, type EchoUpstream } from '../support/ws-echo-upstream';

/*
 * docs/routing.md "Hostile input" and "WebSockets", together and at length: two connections of garbage
 * and slow-loris heads beside twenty of normal traffic (GETs, POSTs with bodies, WebSocket
 * sessions) for a minute after a warm-up. No normal request fails, every hostile one gets a 4xx,
 * memory stays flat, and at the end no permit is held and no socket is left open.
 */

/**
 * Warm-up lasts until RSS (after GC) has held within WARM_RSS_BAND_MIB for WARM_STEADY_SAMPLES
 * samples WARM_UP_STEP_MS apart, at most WARM_UP_MAX_MS: compiled code, pools and heap at their
 * working size. The gateway runs as shipped, with `--max-semi-space-size=16` (docs/operations.md
 * "Running in production"): without it Node 24 grows the young generation over a minute or more of this load.
 */
const WARM_UP_MAX_MS = 60_000;
const WARM_UP_STEP_MS = 5_000;
const WARM_STEADY_SAMPLES = 3;
const WARM_RSS_BAND_MIB = 8;
const SOAK_MS = 60_000;
const HEADERS_TIMEOUT_MS = 1_000;
const API_KEY = 'soak-key-0001';
/** A hostile exchange that has not ended by then is a failure (the gateway should have answered and closed). */
const HOSTILE_BOUND_MS = HEADERS_TIMEOUT_MS + 4_000;

const sha256 = (data: Buffer): string => createHash('sha256').update(data).digest('hex');
const sum = (samples: Array<{ value: number }>): number => samples.reduce((total, s) => total + s.value, 0);

/** Request heads a gateway must refuse (4xx, connection closed) without forwarding anything. */
const GARBAGE: ReadonlyArray<() => string> = [
  () => randomBytes(512).toString('latin1'),
  () => 'POST /api/cl HTTP/1.1\r\nHost: gw\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!',
  () => 'POST /api/te HTTP/1.1\r\nHost: gw\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /api/smuggled HTTP/1.1\r\nHost: gw\r\n\r\n',
  () => `GET /api/big HTTP/1.1\r\nHost: gw\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`,
  () => `GET /api/many HTTP/1.1\r\nHost: gw\r\n${Array.from({ length: 150 }, (_, i) => `X-H${i}: v\r\n`).join('')}\r\n`,
  () => 'GET /api/a%00b HTTP/1.1\r\nHost: gw\r\n\r\n',
  () => 'GET /api/%2e%2e/%2e%2e/etc/passwd HTTP/1.1\r\nHost: gw\r\n\r\n',
  () => 'GET /api/x HTTP/1.1\r\nHost: gw\r\nX-Request-Id: a\r\n b\r\n\r\n',
  () => 'GET /ws/room HTTP/1.1\r\nHost: gw\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n',
];

/** Writes `head` (as `drip` bytes every 200 ms, if set) and resolves with the status line received before the close. */
function hostileExchange(port: number, head: string, drip = 0): Promise<string> {
  const socket = connect({ port, host: '127.0.0.1' });
  let received = '';
  socket.setEncoding('latin1');
  socket.on('data', (chunk: string) => (received += chunk));
  socket.on('error', () => undefined);
  let dripper: NodeJS.Timeout | undefined;
  if (drip > 0) {
    let at = 0;
    dripper = setInterval(() => {
      if (at < head.length && socket.writable) socket.write(head.slice(at, (at += drip)), 'latin1');
    }, 200);
  } else {
    socket.write(Buffer.from(head, 'latin1'));
  }
  const bound = setTimeout(() => socket.destroy(), HOSTILE_BOUND_MS);
  return once(socket, 'close').then(() => {
    clearTimeout(bound);
    clearInterval(dripper);
    return received.split('\r\n', 1)[0] || '(nothing)';
  });
}

describe('edge soak', () => {
  let upstream: EchoUpstream;
  let gateway: GatewayProcess;

  beforeAll(async () => {
    upstream = await wsEchoUpstream(echoHandler);
    gateway = await startGatewayProcess({
      config: {
        server: { headersTimeoutMs: HEADERS_TIMEOUT_MS, bodyIdleTimeoutMs: HEADERS_TIMEOUT_MS },
        upstreams: { echo: { targets: [upstream.url], concurrency: { limit: 100 } } },
        routes: [
          { id: 'api', path: '/api/*', methods: ['GET', 'POST'], upstream: 'echo', timeoutMs: 10_000, concurrency: { limit: 40 }, rateLimit: { limit: 1_000_000, windowMs: 60_000, key: 'ip' } },
          {
            id: 'ws',
            path: '/ws/*',
            methods: ['GET'],
            upstream: 'echo',
            timeoutMs: 5_000,
            concurrency: { limit: 10 },
            plugins: [{ name: 'api-key', config: { keysEnv: 'SOAK_KEYS' } }],
          },
        ],
      },
      env: {
        LOG_LEVEL: 'warn',
        SOAK_KEYS: `{soak: ${sha256(Buffer.from(API_KEY))}}`,
        NODE_OPTIONS: `--max-semi-space-size=16 --require ${resolve(__dirname, '../support/gc-on-signal.js')}`,
      },
    });
  });

  afterAll(async () => {
    await gateway?.kill();
    await upstream?.close();
  });

  it('garbage and slow-loris beside GETs, POSTs and WebSockets: no normal request fails, memory stays flat, nothing is left held', async () => {
    const failures: string[] = [];
    const counts = { get: 0, post: 0, wsSessions: 0, wsMessages: 0 };
    const hostile: Record<string, number> = {};
    const fail = (what: string): void => void (failures.length < 20 && failures.push(what));
    const start = Date.now();
    /** When the traffic stops: set once the warm-up is over. */
    let end = Infinity;

    const getLoop = async (n: number): Promise<void> => {
      const client = new Client(gateway.url);
      for (let i = 0; Date.now() < end; i++) {
        const path = `/api/get/${n}-${i}`;
        try {
          const res = await client.request({ path, method: 'GET' });
          const body = (await res.body.json()) as EchoBody;
          if (res.statusCode !== 200 || body.url !== path) fail(`GET ${path}: ${res.statusCode} ${body.url}`);
          else counts.get++;
        } catch (error) {
          fail(`GET ${path}: ${String(error)}`);
        }
      }
      await client.close();
    };

    const postLoop = async (n: number): Promise<void> => {
      const client = new Client(gateway.url);
      for (let i = 0; Date.now() < end; i++) {
        const payload = randomBytes(randomInt(0, 256 * 1024));
        try {
          const res = await client.request({ path: `/api/post/${n}-${i}`, method: 'POST', body: payload, headers: { 'content-type': 'application/octet-stream' } });
          const body = (await res.body.json()) as EchoBody;
          if (res.statusCode !== 200 || body.bytes !== payload.length || body.sha256 !== sha256(payload)) fail(`POST ${n}-${i}: ${res.statusCode} ${body.bytes}/${payload.length}`);
          else counts.post++;
        } catch (error) {
          fail(`POST ${n}-${i}: ${String(error)}`);
        }
      }
      await client.close();
    };

    /** Sessions of ten messages of mixed sizes and kinds, each echoed in order, then a close. */
    const wsLoop = async (n: number): Promise<void> => {
      for (let session = 0; Date.now() < end; session++) {
        try {
          const ws = new WebSocket(`${gateway.url.replace('http', 'ws')}/ws/room-${n}`, { headers: { 'x-api-key': API_KEY } });
          await new Promise<void>((done, reject) => {
            ws.once('open', done);
            ws.once('error', reject);
            ws.once('unexpected-response', (_req, res) => reject(new Error(`handshake ${res.statusCode}`)));
          });
          for (let m = 0; m < 10; m++) {
            const sent = randomBytes(randomInt(1, 128 * 1024));
            const binary = m % 2 === 0;
            ws.send(binary ? sent : sent.toString('hex'), { binary });
            const [data] = (await once(ws, 'message')) as [Buffer];
            if (!data.equals(binary ? sent : Buffer.from(sent.toString('hex')))) fail(`ws ${n}/${session}/${m}: echo differs`);
            else counts.wsMessages++;
          }
          ws.close();
          await once(ws, 'close');
          counts.wsSessions++;
        } catch (error) {
          fail(`ws ${n}/${session}: ${String(error)}`);
        }
      }
    };

    const hostileLoop = async (slowLoris: boolean): Promise<void> => {
      for (let i = 0; Date.now() < end; i++) {
        const head = slowLoris ? 'GET /api/slow HTTP/1.1\r\nHost: gw\r\nX-Padding: ' + 'x'.repeat(200) : GARBAGE[i % GARBAGE.length]();
        const status = await hostileExchange(gateway.port, head, slowLoris ? 1 : 0);
        const key = `${slowLoris ? 'slow-loris' : `garbage#${i % GARBAGE.length}`} ${status}`;
        hostile[key] = (hostile[key] ?? 0) + 1;
      }
    };

    const traffic = Promise.all([
      ...Array.from({ length: 8 }, (_, n) => getLoop(n)),
      ...Array.from({ length: 8 }, (_, n) => postLoop(n)),
      ...Array.from({ length: 4 }, (_, n) => wsLoop(n)),
      hostileLoop(false),
      hostileLoop(true),
    ]);

    const sleep = (ms: number): Promise<unknown> => new Promise((done) => setTimeout(done, ms));
    const samples: number[] = [];
    const steady = (): boolean => {
      const last = samples.slice(-WARM_STEADY_SAMPLES);
      return last.length === WARM_STEADY_SAMPLES && Math.max(...last) - Math.min(...last) < WARM_RSS_BAND_MIB;
    };
    while (!steady() && Date.now() - start < WARM_UP_MAX_MS) {
      await sleep(WARM_UP_STEP_MS);
      samples.push(await restingRssMiB(gateway));
    }
    const warmRss = samples.at(-1)!;
    const warmUpMs = Date.now() - start;
    end = Date.now() + SOAK_MS;
    await sleep(SOAK_MS - 5_000);
    const loadedRss = await restingRssMiB(gateway);
    await traffic;
    const idleRss = await restingRssMiB(gateway);

    expect(failures).toEqual([]);
    const enough = counts.get > 2_000 && counts.post > 500 && counts.wsSessions > 40;
    expect({ counts, enough }).toMatchObject({ enough: true });
    // Every hostile exchange ended in a 4xx from the gateway; slow-loris heads in 408.
    const refused = Object.keys(hostile).filter((key) => !/ HTTP\/1\.1 4\d\d /.test(key));
    expect({ hostile, refused }).toMatchObject({ refused: [] });
    expect(Object.keys(hostile).filter((key) => key.startsWith('slow-loris'))).toEqual([expect.stringMatching(/ HTTP\/1\.1 408 /)]);
    expect(upstream.handshakes.filter((req) => !req.url?.startsWith('/ws/room-')).map((req) => req.url)).toEqual([]);

    // RSS in MiB after full GCs: at the end of the warm-up, 5 s before the end (under load), after it.
    const rss = { warmUp: samples, warm: warmRss, loaded: loadedRss, idle: idleRss, warmUpMs };
    const growth = { underLoad: Math.round((loadedRss - warmRss) * 10) / 10, atRest: Math.round((idleRss - warmRss) * 10) / 10 };
    const flat = { underLoad: growth.underLoad < 50, atRest: growth.atRest < 50 };
    expect({ rss, growth, flat }).toEqual({ rss, growth, flat: { underLoad: true, atRest: true } });

    // Nothing held: permits, queues, WebSockets (both ends) and client connections all back to 0.
    const held = await settled(
      async () => {
        const metrics = (await call(`${gateway.url}/_gateway/metrics`, { headers: { connection: 'close' } })).text;
        return {
          permitsInUse: sum(samplesOf(metrics, 'gateway_permits_in_use')),
          permitsQueued: sum(samplesOf(metrics, 'gateway_permits_queued')),
          websocketsOpen: sum(samplesOf(metrics, 'gateway_websockets_open')),
          upstreamWebsockets: upstream.wss.clients.size,
          clientConnections: establishedTo(gateway.port),
        };
      },
      (h) => Object.values(h).every((v) => v === 0),
    );
    expect(held).toEqual({ permitsInUse: 0, permitsQueued: 0, websocketsOpen: 0, upstreamWebsockets: 0, clientConnections: 0 });
    expect(gateway.logLines().filter((l) => ['error', 'fatal'].includes(String(l.level)))).toEqual([]);
  }, WARM_UP_MAX_MS + SOAK_MS + 60_000);
});

/** Established TCP connections whose local end is `port` on 127.0.0.1: the gateway's side of its client connections. */
function establishedTo(port: number): number {
  const local = `0100007F:${port.toString(16).toUpperCase().padStart(4, '0')}`;
  return readFileSync('/proc/net/tcp', 'utf8')
    .split('\n')
    .slice(1)
    .map((line) => line.trim().split(/\s+/))
    .filter((fields) => fields[1] === local && fields[3] === '01').length;
}
