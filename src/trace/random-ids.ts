import { randomFillSync } from 'node:crypto';

/*
 * Random hex ids drawn from a pool refilled 4 KiB at a time: one syscall serves hundreds of
 * requests, where a randomBytes() call per id would not.
 */
const POOL_SIZE = 4096;
const pool = Buffer.alloc(POOL_SIZE);
let offset = POOL_SIZE;

function randomHex(bytes: number): string {
  if (offset + bytes > POOL_SIZE) {
    randomFillSync(pool);
    offset = 0;
  }
  const hex = pool.toString('hex', offset, offset + bytes);
  offset += bytes;
  return hex;
}

/** 16 random bytes as 32 lower-case hex characters; never all zero. */
export function newTraceId(): string {
  const id = randomHex(16);
  return id === '00000000000000000000000000000000' ? newTraceId() : id;
}

/** 8 random bytes as 16 lower-case hex characters; never all zero. */
export function newSpanId(): string {
  const id = randomHex(8);
  return id === '0000000000000000' ? newSpanId() : id;
}
