import { Transform, type TransformCallback } from 'node:stream';
import { GatewayError } from '../errors/gateway-error';
import type { RequestContext } from '../trace/request-context';

export function bodyTooLarge(limit: number): GatewayError {
  return new GatewayError('body_too_large', `request body is larger than ${limit} bytes`, { connection: 'close' });
}

/**
 * The request body as handed to the upstream client. It stands between the client's
 * IncomingMessage and undici for two reasons: undici destroys the body stream it was given when
 * a call fails, which must not destroy the client's socket (the client is still owed a 502 or
 * 504); and a body of unknown length (chunked) is counted while it streams and failed once it
 * passes the limit. Declared lengths are checked before any byte moves.
 */
export class RequestBodyStream extends Transform {
  private seen = 0;

  constructor(
    private readonly limit: number,
    private readonly context: RequestContext | undefined,
  ) {
    super();
  }

  /** Nothing of the body has been read from the client yet, so it can still be replayed. */
  get untouched(): boolean {
    return this.seen === 0;
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.seen += chunk.length;
    if (this.context) this.context.bytesIn += chunk.length;
    if (this.seen > this.limit) callback(bodyTooLarge(this.limit));
    else callback(null, chunk);
  }
}
