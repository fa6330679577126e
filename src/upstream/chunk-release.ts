import type { Writable } from 'node:stream';

/** Smaller chunks are left to the garbage collector: the memory that matters comes in the large reads of a streamed body. */
const MIN_RELEASED_BYTES = 8 * 1024;

type TransferableArrayBuffer = ArrayBuffer & { transfer(newLength: number): ArrayBuffer };

/** `ArrayBuffer.prototype.transfer` exists from Node 22 (V8 11.4) on; on Node 20 every chunk is left to the collector. */
const CAN_TRANSFER = typeof (ArrayBuffer.prototype as Partial<TransferableArrayBuffer>).transfer === 'function';

/**
 * Writes a body chunk read from the upstream into the client's response and frees the chunk's
 * memory as soon as the response has flushed it, instead of at some later garbage collection.
 *
 * Why: each read from an upstream socket lands in a new buffer outside the JS heap (up to 64 KiB),
 * and on Node 24 V8 answers every few tens of MiB of such memory with a full mark-compact of the
 * whole heap: at 600 MiB/s, over ten a second, which cost more CPU than moving the bytes
 * (docs/performance.md "Streaming and the garbage collector"). Freed here, that memory never adds up.
 *
 * Freeing is `ArrayBuffer.prototype.transfer(0)`, which detaches the buffer: every view of it
 * becomes empty and the memory goes back at once. That is safe only if no one can still read it:
 * - The chunk must span its whole ArrayBuffer. undici hands over body chunks as views into the
 *   buffer the socket read; a chunk that spans all of it shares it with nothing else (no head,
 *   no next response, no remainder undici put back on the socket, not a slice of Buffer's pool).
 * - The write's callback must have run without error: the socket (libuv, TLS) is then done with
 *   the bytes. A failed write may never have reached the socket; that chunk is left to the collector.
 *   So the sink must be one whose callback means the bytes are gone, as the client's response is;
 *   a stream that queues what it was given (a PassThrough, a Transform) calls back too early.
 */
export function writeReleasingChunk(sink: Writable, chunk: Buffer): boolean {
  const memory = chunk.buffer;
  if (!CAN_TRANSFER || chunk.byteLength < MIN_RELEASED_BYTES || chunk.byteLength !== memory.byteLength) {
    return sink.write(chunk);
  }
  return sink.write(chunk, (error) => {
    if (!error) release(memory as TransferableArrayBuffer);
  });
}

function release(memory: TransferableArrayBuffer): void {
  try {
    memory.transfer(0);
  } catch {
    // Not detachable (a SharedArrayBuffer, or one Node pinned): the collector frees it as before.
  }
}
