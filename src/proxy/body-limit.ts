import { Transform, type TransformCallback } from 'node:stream';
import { GatewayError } from '../errors/gateway-error';

export function bodyTooLarge(limit: number): GatewayError {
  return new GatewayError('body_too_large', `request body is larger than ${limit} bytes`, { connection: 'close' });
}

/**
 * Counts a request body of unknown length (chunked) while it streams and fails it once it
 * passes the limit. Bodies with a Content-Length are checked up front and need no counting:
 * Node's parser never delivers more than the declared length.
 */
export class BodyLimitStream extends Transform {
  private seen = 0;

  constructor(private readonly limit: number) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.seen += chunk.length;
    if (this.seen > this.limit) callback(bodyTooLarge(this.limit));
    else callback(null, chunk);
  }
}
