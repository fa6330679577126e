import { createCipheriv, createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { performance } from 'node:perf_hooks';
import { setTimeout as delay } from 'node:timers/promises';
import { resolve } from 'node:path';
import { Agent, request } from 'undici';
import { settled } from '../support/gc-figures';
import { call } from '../support/http';
import { startGatewayProcess, type GatewayProcess } from '../support/gateway-process';
import { startUpstream, type UpstreamFixture } from '../support/upstream-fixture';

/*
 * docs/routing.md "Proxying and headers": bodies stream in both directions with backpressure; none is held whole in
 * memory. The gateway runs as a child process (`node dist/main.js`) so that its RSS is its own,
 * and every transfer is 200 MiB of deterministic pseudo-random bytes that exist nowhere whole:
 * the sender generates them chunk by chunk and the receiver hashes them as they arrive.
 *
 * The receiving end is deliberately slower than the sending end (it pauses now and then), so a
 * gateway that read faster than it could write would pile the difference up in its memory.
 */

const MiB = 1024 * 1024;
const TRANSFER_BYTES = 200 * MiB;
const CHUNK_BYTES = 64 * 1024;
const MAX_RSS_GROWTH_BYTES = 100 * MiB;
const RSS_SAMPLE_INTERVAL_MS = 50;
/** The receiver pauses PACE_PAUSE_MS after every PACE_EVERY_BYTES it takes in. */
const PACE_EVERY_BYTES = 4 * MiB;
const PACE_PAUSE_MS = 20;
const TRANSFER_TIMEOUT_MS = 120_000;
/** How long the stalled client reads nothing. */
const STALL_MS = 3000;
/**
 * What the upstream may write while the client reads nothing: socket buffers (on loopback the
 * kernel may autotune a receive buffer up to net.ipv4.tcp_rmem's maximum) plus a few stream
 * buffers. Far below TRANSFER_BYTES, which an upstream not held back would write in full.
 */
const MAX_WRITTEN_WHILE_STALLED_BYTES = 40 * MiB;
/** Counts the gateway's garbage collections by kind; read with SIGUSR2. */
const GC_COUNTS_PRELOAD = resolve(__dirname, '../support/gc-counts-on-signal.js');
/**
 * Whether this runtime can free a body chunk's memory at once (ArrayBuffer.prototype.transfer,
 * Node 22 and later; src/upstream/chunk-release.ts). Node 20 leaves every chunk to the collector.
 */
const FREES_CHUNKS = typeof (ArrayBuffer.prototype as { transfer?: unknown }).transfer === 'function';

jest.setTimeout(TRANSFER_TIMEOUT_MS);

interface GeneratedBody {
  readonly stream: Readable;
  /** The sha256 and size of what the stream produced so far (complete once it has ended). */
  readonly produced: { bytes: number; sha256(): string };
}

/**
 * `totalBytes` of AES-128-CTR key stream (deterministic for a seed, indistinguishable from random,
 * so nothing along the way can compress or dedupe it), produced CHUNK_BYTES at a time.
 */
function generatedBody(totalBytes: number, seed: number): GeneratedBody {
  const key = createHash('sha256').update(`key-${seed}`).digest().subarray(0, 16);
  const iv = createHash('sha256').update(`iv-${seed}`).digest().subarray(0, 16);
  const cipher = createCipheriv('aes-128-ctr', key, iv);
  const zeros = Buffer.alloc(CHUNK_BYTES);
  const hash = createHash('sha256');
  let digest: string | null = null;
  const produced = {
    bytes: 0,
    sha256: (): string => (digest ??= hash.digest('hex')),
  };
  function* chunks(): Generator<Buffer> {
    while (produced.bytes < totalBytes) {
      const size = Math.min(CHUNK_BYTES, totalBytes - produced.bytes);
      const chunk = cipher.update(size === CHUNK_BYTES ? zeros : zeros.subarray(0, size));
      hash.update(chunk);
      produced.bytes += chunk.length;
      yield chunk;
    }
  }
  return { stream: Readable.from(chunks(), { objectMode: false }), produced };
}

interface ReceivedBody {
  bytes: number;
  sha256: string;
}

/** A sink that hashes what it is given and pauses PACE_PAUSE_MS after every PACE_EVERY_BYTES. */
function pacedHashingSink(): { sink: Writable; received(): ReceivedBody } {
  const hash = createHash('sha256');
  let bytes = 0;
  let sinceLastPause = 0;
  const sink = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      hash.update(chunk);
      bytes += chunk.length;
      sinceLastPause += chunk.length;
      if (sinceLastPause < PACE_EVERY_BYTES) {
        callback();
        return;
      }
      sinceLastPause = 0;
      void delay(PACE_PAUSE_MS).then(() => callback());
    },
  });
  return { sink, received: () => ({ bytes, sha256: hash.digest('hex') }) };
}

interface UploadReport extends ReceivedBody {
  contentLength: string | null;
  transferEncoding: string | null;
}

/** Upstream for uploads: hashes the request body at a paced rate, then answers with what it got. */
function uploadSinkHandler(req: IncomingMessage, res: ServerResponse): void {
  const { sink, received } = pacedHashingSink();
  pipeline(req, sink).then(
    () => {
      const report: UploadReport = {
        ...received(),
        contentLength: req.headers['content-length'] ?? null,
        transferEncoding: req.headers['transfer-encoding'] ?? null,
      };
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(report));
    },
    () => res.destroy(),
  );
}

interface DownloadSource {
  handler(req: IncomingMessage, res: ServerResponse): void;
  /** Resolves with the size and sha256 of what the upstream sent for the download with this seed. */
  sent(seed: number): Promise<ReceivedBody>;
  /** How many bytes the upstream has produced so far for the download with this seed (0 before it starts). */
  producedSoFar(seed: number): number;
}

/** Upstream for downloads: GET /download?seed=<n>&bytes=<n>&length=0|1 streams that many generated bytes. */
function downloadSource(): DownloadSource {
  const results = new Map<number, Promise<ReceivedBody>>();
  const progress = new Map<number, GeneratedBody['produced']>();
  return {
    handler(req, res) {
      const query = new URL(req.url ?? '/', 'http://upstream').searchParams;
      const seed = Number(query.get('seed'));
      const bytes = Number(query.get('bytes'));
      const body = generatedBody(bytes, seed);
      progress.set(seed, body.produced);
      const headers: Record<string, string> = { 'content-type': 'application/octet-stream' };
      if (query.get('length') === '1') headers['content-length'] = String(bytes);
      res.writeHead(200, headers);
      const sent = pipeline(body.stream, res).then(() => ({ bytes: body.produced.bytes, sha256: body.produced.sha256() }));
      sent.catch(() => undefined); // awaited by the test; a failed transfer must not be an unhandled rejection
      results.set(seed, sent);
    },
    sent: (seed) => results.get(seed) ?? Promise.reject(new Error(`the upstream received no download request with seed ${seed}`)),
    producedSoFar: (seed) => progress.get(seed)?.bytes ?? 0,
  };
}

interface RssReport {
  baselineBytes: number;
  peakBytes: number;
  growthBytes: number;
  samples: number;
}

/** Samples the gateway's RSS every RSS_SAMPLE_INTERVAL_MS while `transfer` runs. */
async function withRssSampling<T>(gateway: GatewayProcess, transfer: () => Promise<T>): Promise<{ result: T; rss: RssReport }> {
  const baselineBytes = gateway.rssBytes();
  let peakBytes = baselineBytes;
  let samples = 0;
  let samplingError: unknown = null;
  const sample = (): void => {
    try {
      peakBytes = Math.max(peakBytes, gateway.rssBytes());
      samples++;
    } catch (error) {
      samplingError ??= error;
    }
  };
  const timer = setInterval(sample, RSS_SAMPLE_INTERVAL_MS);
  try {
    const result = await transfer();
    sample();
    if (samplingError !== null) throw samplingError;
    return { result, rss: { baselineBytes, peakBytes, growthBytes: peakBytes - baselineBytes, samples } };
  } finally {
    clearInterval(timer);
  }
}

const toMiB = (bytes: number): number => Math.round((bytes / MiB) * 10) / 10;

describe('streaming through the gateway process: 200 MiB each way with bounded memory', () => {
  let sinkUpstream: UpstreamFixture;
  let sourceUpstream: UpstreamFixture;
  let source: DownloadSource;
  let gateway: GatewayProcess;
  let client: Agent;
  const figures: string[] = [];

  beforeAll(async () => {
    source = downloadSource();
    sinkUpstream = await startUpstream(uploadSinkHandler);
    sourceUpstream = await startUpstream((req, res) => source.handler(req, res));
    client = new Agent({ headersTimeout: TRANSFER_TIMEOUT_MS, bodyTimeout: TRANSFER_TIMEOUT_MS });
  });

  // A fresh gateway per transfer: RSS rarely shrinks once grown, so a process that had already
  // buffered one body would hide the next one's buffering behind its raised baseline.
  beforeEach(async () => {
    gateway = await startGatewayProcess({
      config: {
        server: { bodyLimitBytes: 1024 * MiB },
        upstreams: {
          sink: { targets: [sinkUpstream.url] },
          source: { targets: [sourceUpstream.url] },
        },
        routes: [
          { id: 'upload', path: '/upload', methods: ['POST', 'PUT'], upstream: 'sink', timeoutMs: TRANSFER_TIMEOUT_MS },
          { id: 'download', path: '/download', methods: ['GET'], upstream: 'source', timeoutMs: TRANSFER_TIMEOUT_MS },
        ],
      },
      env: { NODE_OPTIONS: `--require ${GC_COUNTS_PRELOAD}` },
    });
  });

  afterEach(async () => {
    await gateway?.kill();
  });

  afterAll(async () => {
    await client?.close();
    await sinkUpstream?.close();
    await sourceUpstream?.close();
    if (figures.length > 0) console.log(`gateway RSS during 200 MiB transfers: ${figures.join('; ')}`);
  });

  /**
   * One small upload and download through the gateway before its baseline is taken, so the
   * one-off cost of the first proxied requests (lazy initialisation, first upstream connections;
   * about 7-9 MiB) is not counted as body buffering.
   */
  async function warmUp(): Promise<void> {
    const up = await call(`${gateway.url}/upload`, { method: 'POST', body: Buffer.alloc(MiB, 1) });
    expect(up.status).toBe(200);
    expect(up.json<UploadReport>().bytes).toBe(MiB);
    const down = await call(`${gateway.url}/download?seed=0&bytes=${MiB}&length=1`);
    expect(down.status).toBe(200);
    expect(down.headers['content-length']).toBe(String(MiB));
  }

  async function upload(label: string, seed: number, withContentLength: boolean): Promise<void> {
    await warmUp();
    const body = generatedBody(TRANSFER_BYTES, seed);
    const { result, rss } = await withRssSampling(gateway, async () => {
      const res = await request(`${gateway.url}/upload`, {
        dispatcher: client,
        method: 'POST',
        headers: {
          'content-type': 'application/octet-stream',
          ...(withContentLength ? { 'content-length': String(TRANSFER_BYTES) } : {}),
        },
        body: body.stream,
      });
      const text = await res.body.text();
      return { status: res.statusCode, text };
    });
    figures.push(`${label}: ${toMiB(rss.baselineBytes)} -> ${toMiB(rss.peakBytes)} MiB (+${toMiB(rss.growthBytes)}, ${rss.samples} samples)`);

    expect(result.status).toBe(200);
    const report = JSON.parse(result.text) as UploadReport;
    expect(body.produced.bytes).toBe(TRANSFER_BYTES);
    expect(report.bytes).toBe(TRANSFER_BYTES);
    expect(report.sha256).toBe(body.produced.sha256());
    if (withContentLength) {
      expect(report.contentLength).toBe(String(TRANSFER_BYTES));
    } else {
      expect(report.contentLength).toBeNull();
      expect(report.transferEncoding).toBe('chunked');
    }
    expect(rss.samples).toBeGreaterThanOrEqual(5);
    expect(rss.growthBytes).toBeLessThan(MAX_RSS_GROWTH_BYTES);
  }

  /** The gateway's full (mark-compact) collections so far, from gc-counts-on-signal.js. */
  async function majorGcs(): Promise<number> {
    const round = (gateway.stderr().match(/^gc-counts /gm)?.length ?? 0) + 1;
    const line = new RegExp(`^gc-counts ${round} (.*)$`, 'm');
    gateway.child.kill('SIGUSR2');
    const match = await settled(async () => line.exec(gateway.stderr()), (m) => m !== null, 10_000);
    if (match === null) throw new Error(`no "gc-counts ${round}" line on the gateway's stderr`);
    return (JSON.parse(match[1]) as { major: number }).major;
  }

  async function download(label: string, seed: number, withContentLength: boolean): Promise<void> {
    await warmUp();
    const { result, rss } = await withRssSampling(gateway, async () => {
      const url = `${gateway.url}/download?seed=${seed}&bytes=${TRANSFER_BYTES}&length=${withContentLength ? 1 : 0}`;
      const res = await request(url, { dispatcher: client });
      const { sink, received } = pacedHashingSink();
      await pipeline(res.body, sink);
      return { status: res.statusCode, headers: res.headers, received: received() };
    });
    figures.push(`${label}: ${toMiB(rss.baselineBytes)} -> ${toMiB(rss.peakBytes)} MiB (+${toMiB(rss.growthBytes)}, ${rss.samples} samples)`);

    expect(result.status).toBe(200);
    const sent = await source.sent(seed);
    expect(sent.bytes).toBe(TRANSFER_BYTES);
    expect(result.received.bytes).toBe(TRANSFER_BYTES);
    expect(result.received.sha256).toBe(sent.sha256);
    if (withContentLength) expect(result.headers['content-length']).toBe(String(TRANSFER_BYTES));
    else expect(result.headers['content-length']).toBeUndefined();
    expect(rss.samples).toBeGreaterThanOrEqual(5);
    expect(rss.growthBytes).toBeLessThan(MAX_RSS_GROWTH_BYTES);
  }

  it('uploads 200 MiB with a Content-Length intact (same sha256 upstream) and RSS growth under 100 MiB', async () => {
    await upload('upload (content-length)', 1, true);
  });

  it('uploads 200 MiB chunked, without a Content-Length, intact and with RSS growth under 100 MiB', async () => {
    await upload('upload (chunked)', 2, false);
  });

  it('downloads 200 MiB with a Content-Length intact (same sha256 at the client) and RSS growth under 100 MiB', async () => {
    await download('download (content-length)', 3, true);
  });

  it('downloads 200 MiB chunked intact and with RSS growth under 100 MiB', async () => {
    await download('download (chunked)', 4, false);
  });

  it(
    FREES_CHUNKS
      ? 'frees each read of a download once written: 200 MiB with a Content-Length costs at most 1 full GC, chunked (reads left to the collector) several'
      : 'Node 20 (no ArrayBuffer.prototype.transfer, reads left to the collector): a 200 MiB download costs at most 1 full GC either way',
    async () => {
      await warmUp();
      const majorsDuring = async (seed: number, withContentLength: boolean): Promise<number> => {
        const before = await majorGcs();
        const res = await request(`${gateway.url}/download?seed=${seed}&bytes=${TRANSFER_BYTES}&length=${withContentLength ? 1 : 0}`, {
          dispatcher: client,
        });
        const { sink, received } = pacedHashingSink();
        await pipeline(res.body, sink);
        expect(res.statusCode).toBe(200);
        expect(received().sha256).toBe((await source.sent(seed)).sha256);
        return (await majorGcs()) - before;
      };
      // Chunked: undici hands the body over in views that share each read with the chunk framing,
      // so no read is freed early: the control, showing what reads left to the collector cost.
      const chunked = await majorsDuring(6, false);
      const withLength = await majorsDuring(7, true);
      figures.push(`full GCs per 200 MiB download: ${withLength} with a Content-Length, ${chunked} chunked`);
      if (FREES_CHUNKS) {
        expect(chunked).toBeGreaterThanOrEqual(2);
        expect(withLength).toBeLessThanOrEqual(1);
      } else {
        // Node 20's collector copes with these reads without full collections (measured: 0 and 1).
        expect(Math.max(chunked, withLength)).toBeLessThanOrEqual(1);
      }
    },
  );

  it('a client that stops reading stalls the upstream: it writes far less than the body while the client pauses, then all of it, intact', async () => {
    await warmUp();
    const seed = 5;
    const url = `${gateway.url}/download?seed=${seed}&bytes=${TRANSFER_BYTES}&length=1`;
    const { result, rss } = await withRssSampling(gateway, async () => {
      const res = await request(url, { dispatcher: client });
      // The client has the response headers and reads nothing for STALL_MS. Every byte the
      // upstream writes meanwhile sits in a buffer on the way: the client's, the kernel's socket
      // buffers, or the gateway's memory. With backpressure the upstream is blocked once those
      // fill; without it the gateway would read on, and the upstream would write everything.
      const stallStartedAt = performance.now();
      await delay(STALL_MS);
      const writtenWhileStalled = source.producedSoFar(seed);
      const stallMs = performance.now() - stallStartedAt;
      // Then it drains, slowly (PACE_PAUSE_MS every PACE_EVERY_BYTES).
      const drainStartedAt = performance.now();
      const { sink, received } = pacedHashingSink();
      await pipeline(res.body, sink);
      const drainMs = performance.now() - drainStartedAt;
      return { status: res.statusCode, received: received(), writtenWhileStalled, stallMs, drainMs };
    });
    const { writtenWhileStalled, stallMs, drainMs } = result;
    // How fast the upstream managed to write even through the slow reader: its capacity over the stall.
    const couldHaveWritten = ((TRANSFER_BYTES - writtenWhileStalled) / drainMs) * stallMs;
    figures.push(
      `stalled reader: upstream wrote ${toMiB(writtenWhileStalled)} MiB in a ${Math.round(stallMs)} ms stall ` +
        `(at the drain's pace it could have written ${toMiB(couldHaveWritten)} MiB), RSS +${toMiB(rss.growthBytes)} MiB`,
    );

    expect(result.status).toBe(200);
    const sent = await source.sent(seed);
    expect(sent.bytes).toBe(TRANSFER_BYTES);
    expect(result.received.bytes).toBe(TRANSFER_BYTES);
    expect(result.received.sha256).toBe(sent.sha256);
    expect(writtenWhileStalled).toBeLessThan(MAX_WRITTEN_WHILE_STALLED_BYTES);
    // The setup can tell backpressure from its absence: even at the pace of the slow drain, the
    // upstream could have written twice the bound during the stall.
    expect(couldHaveWritten).toBeGreaterThan(2 * MAX_WRITTEN_WHILE_STALLED_BYTES);
    expect(rss.growthBytes).toBeLessThan(MAX_RSS_GROWTH_BYTES);
  });
});
