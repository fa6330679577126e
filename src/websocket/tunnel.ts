import type { Duplex } from 'node:stream';

/** How long a side that has ended may take to close before both are cut. */
const CLOSE_GRACE_MS = 1000;

/**
 * Joins the client's socket and the upstream's after a protocol switch: bytes flow both ways
 * with backpressure (pipe pauses the reader while the writer is full). When one side ends,
 * the other is ended too, and both are destroyed if they are not closed within a second; when
 * one side closes or fails, the other is destroyed at once.
 */
export function tunnel(client: Duplex, upstream: Duplex, head: Buffer): void {
  upstream.on('error', () => upstream.destroy());
  client.on('error', () => client.destroy());
  if (head.length > 0) upstream.write(head);
  client.pipe(upstream);
  upstream.pipe(client);
  const closeBoth = (): void => {
    client.destroy();
    upstream.destroy();
  };
  const onEnd = (): void => {
    setTimeout(closeBoth, CLOSE_GRACE_MS).unref();
  };
  client.once('end', onEnd);
  upstream.once('end', onEnd);
  client.once('close', () => upstream.destroy());
  upstream.once('close', () => client.destroy());
}
