import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { request } from 'undici';
import { startGatewayProcess, type GatewayProcess } from '../support/gateway-process';
import { call } from '../support/http';
import { samplesOf } from '../support/metrics-text';
import { startUpstream, type UpstreamFixture } from '../support/upstream-fixture';

/*
 * docs/performance.md "Streaming and the garbage collector": while bodies stream, the gateway runs
 * a minor GC every 32 MiB so the socket buffers it is done with are freed young, instead of
 * piling up as external memory until V8 runs a full mark-compact of the whole heap every 64 MiB.
 * Seen from outside through the default Node metrics of `GET /_gateway/metrics`
 * (nodejs_gc_duration_seconds by kind), on the built gateway as operators start it. Node 20's V8
 * scavenges on external memory by itself, so there these hold either way; Node 24's does not
 * (unpaced: 2 minor and 5 full collections for the 320 MiB of downloads).
 */

const MiB = 1024 * 1024;
const BODY_BYTES = 10 * MiB;
const DOWNLOADS = 32;
const UPLOADS = 16;
const PARALLEL = 4;
const STEP_BYTES = 32 * MiB;

/** GC counts by kind (minor, major, incremental, weakcb) from a metrics scrape. */
async function gcCounts(gateway: GatewayProcess): Promise<Record<string, number>> {
  const scrape = await call(`${gateway.url}/_gateway/metrics`);
  const counts: Record<string, number> = {};
  for (const sample of samplesOf(scrape.text, 'nodejs_gc_duration_seconds_count')) counts[sample.labels.kind] = sample.value;
  return counts;
}

const grown = (before: Record<string, number>, after: Record<string, number>, kind: string): number => (after[kind] ?? 0) - (before[kind] ?? 0);

/** `total` calls of `one`, `PARALLEL` at a time. */
async function inParallel(total: number, one: () => Promise<void>): Promise<void> {
  let started = 0;
  const lane = async (): Promise<void> => {
    while (started < total) {
      started++;
      await one();
    }
  };
  await Promise.all(Array.from({ length: PARALLEL }, lane));
}

describe('minor GCs paced by streamed bytes (dist/main.js, no extra Node flags)', () => {
  const body = randomBytes(BODY_BYTES);
  let upstream: UpstreamFixture;
  let gateway: GatewayProcess;

  beforeAll(async () => {
    upstream = await startUpstream((req: IncomingMessage, res: ServerResponse) => {
      if (req.method === 'GET') {
        res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': BODY_BYTES });
        res.end(body);
        return;
      }
      let received = 0;
      req.on('data', (chunk: Buffer) => (received += chunk.length));
      req.on('end', () => res.writeHead(200, { 'content-type': 'text/plain' }).end(String(received)));
    });
    gateway = await startGatewayProcess({
      config: {
        upstreams: { files: { targets: [upstream.url] } },
        routes: [{ id: 'files', path: '/files/*', upstream: 'files' }],
      },
      env: { LOG_LEVEL: 'warn' },
      startTimeoutMs: 15_000,
    });
  });

  afterAll(async () => {
    await gateway?.stop();
    await upstream?.close();
  });

  it('downloads: a minor GC for each 32 MiB of response bodies, and (almost) no full collection', async () => {
    const before = await gcCounts(gateway);
    await inParallel(DOWNLOADS, async () => {
      const res = await request(`${gateway.url}/files/big.bin`);
      let bytes = 0;
      for await (const chunk of res.body) bytes += (chunk as Buffer).length;
      expect([res.statusCode, bytes]).toEqual([200, BODY_BYTES]);
    });
    const after = await gcCounts(gateway);
    const streamed = DOWNLOADS * BODY_BYTES;
    expect(grown(before, after, 'minor')).toBeGreaterThanOrEqual(Math.floor(streamed / STEP_BYTES) - 1);
    // Unpaced, V8 runs one full collection per 64 MiB of buffers: 5 or more for these 320 MiB.
    expect(grown(before, after, 'major')).toBeLessThanOrEqual(2);
  });

  it('uploads: request bodies count too', async () => {
    const before = await gcCounts(gateway);
    await inParallel(UPLOADS, async () => {
      const res = await request(`${gateway.url}/files/upload.bin`, { method: 'PUT', body: body });
      expect([res.statusCode, await res.body.text()]).toEqual([200, String(BODY_BYTES)]);
    });
    const after = await gcCounts(gateway);
    expect(grown(before, after, 'minor')).toBeGreaterThanOrEqual(Math.floor((UPLOADS * BODY_BYTES) / STEP_BYTES) - 1);
  });
});
