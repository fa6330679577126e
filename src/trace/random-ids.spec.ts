import * as crypto from 'node:crypto';
import { newSpanId, newTraceId } from './random-ids';

/*
 * W3C Trace Context: trace-id is 16 bytes, parent-id 8 bytes, both lower-case hex and never all
 * zero; ids must be random enough not to collide (the gateway draws them from a pooled buffer,
 * so the tests cross many pool refills).
 */

jest.mock('node:crypto', () => {
  const actual = jest.requireActual<typeof import('node:crypto')>('node:crypto');
  return { ...actual, randomFillSync: jest.fn(actual.randomFillSync) };
});

const COUNT = 10_000;
const HEX_DIGITS = '0123456789abcdef';

/** Every hex digit shows up at every position: a stuck or zeroed region of the pool would not. */
function expectEveryDigitAtEveryPosition(ids: string[], length: number): void {
  for (let position = 0; position < length; position++) {
    const seen = new Set(ids.map((id) => id[position]));
    expect({ position, digits: [...seen].sort().join('') }).toEqual({ position, digits: HEX_DIGITS });
  }
}

describe('newTraceId', () => {
  const ids = Array.from({ length: COUNT }, () => newTraceId());

  it('is 32 lower-case hex characters, never all zero', () => {
    for (const id of ids) {
      expect(id).toMatch(/^[0-9a-f]{32}$/);
      expect(id).not.toBe('0'.repeat(32));
    }
  });

  it(`is unique over ${COUNT} ids`, () => {
    expect(new Set(ids).size).toBe(COUNT);
  });

  it('is spread over every digit at every position', () => {
    expectEveryDigitAtEveryPosition(ids, 32);
  });
});

describe('newSpanId', () => {
  const ids = Array.from({ length: COUNT }, () => newSpanId());

  it('is 16 lower-case hex characters, never all zero', () => {
    for (const id of ids) {
      expect(id).toMatch(/^[0-9a-f]{16}$/);
      expect(id).not.toBe('0'.repeat(16));
    }
  });

  it(`is unique over ${COUNT} ids`, () => {
    expect(new Set(ids).size).toBe(COUNT);
  });

  it('is spread over every digit at every position', () => {
    expectEveryDigitAtEveryPosition(ids, 16);
  });
});

describe('trace and span ids drawn alternately', () => {
  it('never repeat each other, across pool refills', () => {
    const all = new Set<string>();
    for (let i = 0; i < COUNT; i++) {
      const traceId = newTraceId();
      const spanId = newSpanId();
      all.add(traceId);
      all.add(spanId);
      // A span id is never a slice of the trace id drawn just before it (bytes are not reused).
      expect(traceId.includes(spanId)).toBe(false);
    }
    expect(all.size).toBe(COUNT * 2);
  });
});

describe('all-zero draws', () => {
  const fill = crypto.randomFillSync as unknown as jest.Mock;

  afterEach(() => {
    fill.mockReset();
    fill.mockImplementation(jest.requireActual<typeof import('node:crypto')>('node:crypto').randomFillSync);
  });

  it.each<[string, () => string, number]>([
    ['trace-id', newTraceId, 32],
    ['span-id', newSpanId, 16],
  ])('an all-zero draw is never returned as a %s', (_name, draw, length) => {
    fill.mockClear();
    // The next refill of the pool yields zeros only: every id cut from it would be all zero.
    fill.mockImplementationOnce((buffer: Buffer) => buffer.fill(0));
    // Enough draws to use up what is left of the current pool and the whole zeroed one.
    const ids = Array.from({ length: Math.ceil((2 * 4096) / (length / 2)) + 10 }, () => draw());
    expect(fill.mock.calls.length).toBeGreaterThanOrEqual(2);
    for (const id of ids) {
      expect(id).toMatch(new RegExp(`^[0-9a-f]{${length}}$`));
      expect(id).not.toBe('0'.repeat(length));
    }
  });
});
