import { once } from 'node:events';
import type { ServerResponse } from 'node:http';
import { Writable } from 'node:stream';
import { closedPort, startUpstream, type UpstreamFixture } from '../../test/support/upstream-fixture';
import { validateGatewayConfig } from '../config/config-validator';
import type { CancelSignal } from '../timeout/cancel-signal';
import { UndiciUpstreamClient } from './undici-upstream-client';
import type { UpstreamTarget } from './upstream-target';

/** An abortable signal of the shape the client takes (what RequestCancellation is in the gateway). */
class TestSignal implements CancelSignal {
  aborted = false;
  reason: unknown = undefined;
  private listeners: (() => void)[] = [];
  addEventListener(_type: 'abort', listener: () => void): void {
    if (!this.aborted) this.listeners.push(listener);
  }
  removeEventListener(_type: 'abort', listener: () => void): void {
    this.listeners = this.listeners.filter((l) => l !== listener);
  }
  get listening(): number {
    return this.listeners.length;
  }
  abort(reason: Error): void {
    this.aborted = true;
    this.reason = reason;
    for (const l of this.listeners.splice(0)) l();
  }
}

function clientFor(url: string): UndiciUpstreamClient {
  const config = validateGatewayConfig({ upstreams: { u: { targets: [url] } }, routes: [{ id: 'r', path: '/*', upstream: 'u' }] });
  return new UndiciUpstreamClient(config.upstreams.u);
}

/**
 * A sink that behaves like the client's socket, which is what the gateway writes into: a chunk's
 * write callback runs once the sink has taken its bytes (the client then frees the chunk's memory
 * on Node 22+, chunk-release.ts), and it takes none until opened, so writes pile up and fill it.
 */
class GatedSink extends Writable {
  received = 0;
  readonly full: Promise<void>;
  private markFull!: () => void;
  private held: (() => void) | null = null;
  private isOpen = false;

  constructor() {
    super({ highWaterMark: 64 * 1024 });
    this.full = new Promise<void>((resolve) => (this.markFull = resolve));
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.received += chunk.length;
    if (this.isOpen) callback();
    else this.held = callback;
  }

  /** Reports the first write that finds the sink full (the one that returns false). */
  override write(chunk: unknown, ...rest: unknown[]): boolean {
    const accepted = (Writable.prototype.write as (chunk: unknown, ...rest: unknown[]) => boolean).call(this, chunk, ...rest);
    if (!accepted) this.markFull();
    return accepted;
  }

  open(): void {
    this.isOpen = true;
    const held = this.held;
    this.held = null;
    held?.();
  }
}

function collect(into: Buffer[]): Writable {
  return new Writable({
    write(chunk: Buffer, _encoding, callback) {
      into.push(chunk);
      callback();
    },
  });
}

/*
 * The in-flight count of a target is what least-request balancing reads: every attempt must add
 * itself once and take itself off once, however it ends, or the balancer drifts for good.
 */
describe('UndiciUpstreamClient in-flight count and backpressure (real upstream on 127.0.0.1)', () => {
  let upstream: UpstreamFixture;
  let held: ServerResponse[] = [];
  let arrived: (() => void) | null = null;

  beforeAll(async () => {
    upstream = await startUpstream((req, res) => {
      if (req.url === '/hold') {
        held.push(res);
        arrived?.();
        return;
      }
      if (req.url === '/big') {
        // 8 MiB, far more than the socket buffers hold: a sink that stops taking it must pause the upstream.
        const chunk = Buffer.alloc(64 * 1024, 7);
        let left = 128;
        res.writeHead(200, { 'content-length': String(left * chunk.length) });
        const pump = (): void => {
          while (left > 0) {
            left--;
            if (!res.write(chunk)) return void res.once('drain', pump);
          }
          res.end();
        };
        pump();
        return;
      }
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end('ok');
    });
  });

  afterEach(() => {
    for (const res of held) res.destroy();
    held = [];
    arrived = null;
  });

  afterAll(async () => {
    await upstream.close();
  });

  const request = (path: string, signal: CancelSignal) => ({ method: 'GET', path, headers: {}, body: null, signal });

  it('counts an attempt while it runs and not after it completes', async () => {
    const client = clientFor(upstream.url);
    const target = client.targets[0];
    const signal = new TestSignal();
    const reached = new Promise<void>((resolve) => (arrived = resolve));
    const chunks: Buffer[] = [];
    const done = client.forward(target, request('/hold', signal), () => collect(chunks), { requestWritten: false });
    await reached;
    expect(target.inFlight).toBe(1);
    held[0].end('held answer');
    await done;
    expect(Buffer.concat(chunks).toString()).toBe('held answer');
    expect(target.inFlight).toBe(0);
    expect(signal.listening).toBe(0);
    await client.close();
  });

  it('takes a failed attempt (connection refused) off the count', async () => {
    const client = clientFor(`http://127.0.0.1:${await closedPort()}`);
    const target: UpstreamTarget = client.targets[0];
    await expect(client.forward(target, request('/', new TestSignal()), () => collect([]), { requestWritten: false })).rejects.toThrow();
    expect(target.inFlight).toBe(0);
    await client.close();
  });

  it('takes a cancelled attempt off the count at once, with the signal\'s reason', async () => {
    const client = clientFor(upstream.url);
    const target = client.targets[0];
    const signal = new TestSignal();
    const reached = new Promise<void>((resolve) => (arrived = resolve));
    const done = client.forward(target, request('/hold', signal), () => collect([]), { requestWritten: false });
    await reached;
    expect(target.inFlight).toBe(1);
    const reason = new Error('deadline');
    signal.abort(reason);
    await expect(done).rejects.toBe(reason);
    expect(target.inFlight).toBe(0);
    await client.close();
  });

  it('refuses an already-cancelled request without counting it', async () => {
    const client = clientFor(upstream.url);
    const target = client.targets[0];
    const signal = new TestSignal();
    const reason = new Error('client gone');
    signal.abort(reason);
    await expect(client.forward(target, request('/', signal), () => collect([]), { requestWritten: false })).rejects.toBe(reason);
    expect(target.inFlight).toBe(0);
    expect(upstream.requests.filter((r) => r.url === '/')).toHaveLength(0);
    await client.close();
  });

  it('resumes the upstream once a sink that filled drains, to the last byte', async () => {
    const client = clientFor(upstream.url);
    const target = client.targets[0];
    const sink = new GatedSink();
    const done = client.forward(target, request('/big', new TestSignal()), () => sink, { requestWritten: false });
    // Nothing leaves the sink until a write has found it full: from then on the body only moves if
    // the client waits for 'drain' and resumes the upstream (else the call never ends).
    await sink.full;
    sink.open();
    await Promise.all([done, once(sink, 'finish')]);
    expect(sink.received).toBe(128 * 64 * 1024);
    expect(target.inFlight).toBe(0);
    await client.close();
  });
});
