import { randomFillSync } from 'node:crypto';

/*
 * Random hex ids drawn from a pool refilled 4 KiB at a time: one syscall serves hundreds of
 * requests, where a randomBytes() call per id would not. The pool is turned into hex once per
 * refill and each id is a slice of that text: a slice costs less than a hex conversion per id.
 */
const POOL_SIZE = 4096;
const pool = Buffer.alloc(POOL_SIZE);
let poolHex = '';
let offset = POOL_SIZE;

function randomHex(bytes: number): string {
  if (offset + bytes > POOL_SIZE) {
    randomFillSync(pool);
    poolHex = pool.toString('hex');
    offset = 0;
  }
  const hex = poolHex.slice(offset * 2, (offset + bytes) * 2);
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
