import { IncomingMessage } from 'node:http';
import { Transform, type Readable, type TransformCallback } from 'node:stream';
import { GatewayError } from '../errors/gateway-error';
import type { RequestContext } from '../trace/request-context';

export function bodyTooLarge(limit: number): GatewayError {
  return new GatewayError('body_too_large', `request body is larger than ${limit} bytes`, { connection: 'close' });
}

export function bodyStalled(idleMs: number): GatewayError {
  return new GatewayError('request_timeout', `the request body stalled: no byte for ${idleMs} ms (server.bodyIdleTimeoutMs)`, {
    connection: 'close',
  });
}

/** Per client connection: how long a request body may pause (server.bodyIdleTimeoutMs); set by the gateway's server. */
const BODY_IDLE_TIMEOUTS = new WeakMap<object, number>();
/** The body stream reading each request now. */
const BODY_STREAMS = new WeakMap<IncomingMessage, RequestBodyStream>();
/** Requests whose body Node's parser refused (a bad chunk): their body fails as soon as it is read. */
const BROKEN_BODIES = new WeakMap<IncomingMessage, GatewayError>();

/** Bodies read from requests on `socket` fail when no byte arrives for `idleMs` while they are read. */
export function limitBodyIdleTime(socket: object, idleMs: number): void {
  BODY_IDLE_TIMEOUTS.set(socket, idleMs);
}

/**
 * The body of `req` cannot be read on (Node's parser refused it): the stream reading it fails
 * with `error` now, or the first one to read it does, so its upstream call is abandoned and the
 * client gets `error`, like a body over the limit.
 */
export function failRequestBody(req: IncomingMessage, error: GatewayError): void {
  BROKEN_BODIES.set(req, error);
  BODY_STREAMS.get(req)?.destroy(error);
}

/**
 * The request body as handed to the upstream client. It stands between the client's
 * IncomingMessage and undici for three reasons: undici destroys the body stream it was given when
 * a call fails, which must not destroy the client's socket (the client is still owed a 502 or
 * 504); a body of unknown length (chunked) is counted while it streams and failed once it
 * passes the limit (declared lengths are checked before any byte moves); and a body that stops
 * arriving fails with 408 once it has been idle for the connection's `bodyIdleTimeoutMs`, so a
 * client that drips a body, or stops half-way, holds no permit and no upstream call for longer.
 *
 * The idle watch is one timer per body, armed when the client's request is piped in and
 * refreshed by each chunk. Time the gateway itself holds the client back (backpressure from a
 * slow upstream, or a connection still being made) does not count against the client.
 */
export class RequestBodyStream extends Transform {
  private seen = 0;
  private source: IncomingMessage | null = null;
  private idleMs = 0;
  private idleTimer: NodeJS.Timeout | null = null;

  constructor(
    private readonly limit: number,
    private readonly context: RequestContext | undefined,
  ) {
    super();
    this.once('pipe', this.watchIdleTime);
    // The upstream call listens for this stream's errors and fails with them; a failure after
    // that call is over (or before it began) has nobody else to tell and must not crash the process.
    this.on('error', () => undefined);
  }

  /** Nothing of the body has been read from the client yet, so it can still be replayed. */
  get untouched(): boolean {
    return this.seen === 0;
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.idleTimer?.refresh();
    this.seen += chunk.length;
    if (this.context) this.context.bytesIn += chunk.length;
    if (this.seen > this.limit) callback(bodyTooLarge(this.limit));
    else callback(null, chunk);
  }

  override _flush(callback: TransformCallback): void {
    this.stopIdleWatch();
    callback();
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    // Given up before the client sent all of it (the upstream answered early, or the call failed):
    // the watch goes on until the request is over, then closes the connection that still holds
    // the unread rest, which no later request on it could get past.
    if (this.source === null || this.source.complete) this.stopIdleWatch();
    callback(error);
  }

  private readonly watchIdleTime = (source: Readable): void => {
    if (!(source instanceof IncomingMessage)) return;
    const broken = BROKEN_BODIES.get(source);
    if (broken !== undefined) {
      this.destroy(broken);
      return;
    }
    BODY_STREAMS.set(source, this);
    if (source.complete) return;
    const idleMs = BODY_IDLE_TIMEOUTS.get(source.socket);
    if (idleMs === undefined) return;
    this.source = source;
    this.idleMs = idleMs;
    this.idleTimer = setTimeout(this.onIdle, idleMs);
    this.idleTimer.unref();
  };

  private readonly onIdle = (): void => {
    const source = this.source!;
    if (source.complete || source.socket.destroyed) {
      this.stopIdleWatch();
    } else if (this.context?.end?.ended) {
      // Answered already, but the body never finished: the connection cannot carry another request.
      this.stopIdleWatch();
      this.destroy(bodyStalled(this.idleMs));
      source.socket.destroy();
    } else if (this.destroyed || source.readableFlowing === false || source.readableLength > 0 || this.writableNeedDrain) {
      // Given up and waiting for the answer, or the gateway holds the client back (the upstream
      // reads slowly, or not yet): not the client's pause.
      this.idleTimer!.refresh();
    } else {
      // The upstream call fails with this (it listens for the stream's errors): 408, or the
      // connection cut. The watch goes on until the request is over.
      this.idleTimer!.refresh();
      this.destroy(bodyStalled(this.idleMs));
    }
  };

  private stopIdleWatch(): void {
    if (this.idleTimer === null) return;
    clearTimeout(this.idleTimer);
    this.idleTimer = null;
  }
}
