import { Semaphore, SemaphoreRejection, type Permit } from './semaphore';

/** Lets queued promise callbacks run. */
const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** A deterministic PRNG (mulberry32) in [0, 1). */
function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

async function rejectionOf(promise: Promise<unknown>): Promise<SemaphoreRejection> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof SemaphoreRejection) return error;
    throw error;
  }
  throw new Error('expected a rejection');
}

describe('Semaphore', () => {
  it('grants up to the limit and refuses tryAcquire beyond it', () => {
    const s = new Semaphore(2, 0);
    const a = s.tryAcquire();
    const b = s.tryAcquire();
    expect(a).not.toBeNull();
    expect(b).not.toBeNull();
    expect(s.tryAcquire()).toBeNull();
    expect(s.inUse).toBe(2);
    a!.release();
    expect(s.inUse).toBe(1);
    expect(s.tryAcquire()).not.toBeNull();
  });

  it('serves waiters in FIFO order', async () => {
    const s = new Semaphore(1, 3);
    const first = s.tryAcquire()!;
    const order: number[] = [];
    const waits = [1, 2, 3].map((n) => s.acquire({ timeoutMs: 10_000 }).then((p) => (order.push(n), p)));
    expect(s.queued).toBe(3);
    first.release();
    const p1 = await waits[0];
    p1.release();
    const p2 = await waits[1];
    p2.release();
    const p3 = await waits[2];
    expect(order).toEqual([1, 2, 3]);
    p3.release();
    expect(s.inUse).toBe(0);
    expect(s.queued).toBe(0);
  });

  it('bounds the queue: one more waiter than `queue` fails at once with queue_full', async () => {
    const s = new Semaphore(1, 2);
    s.tryAcquire();
    const controller = new AbortController();
    const waiting = [1, 2].map(() => rejectionOf(s.acquire({ signal: controller.signal, timeoutMs: 10_000 })));
    expect((await rejectionOf(s.acquire({ timeoutMs: 10_000 }))).reason).toBe('queue_full');
    expect(s.queued).toBe(2);
    controller.abort();
    expect((await Promise.all(waiting)).map((r) => r.reason)).toEqual(['aborted', 'aborted']);
  });

  it('a new caller cannot overtake queued waiters', async () => {
    const s = new Semaphore(1, 1);
    const held = s.tryAcquire()!;
    const waiter = s.acquire({ timeoutMs: 10_000 });
    held.release();
    expect(s.tryAcquire()).toBeNull();
    (await waiter).release();
    expect(s.inUse).toBe(0);
  });

  describe('timeouts', () => {
    beforeEach(() => jest.useFakeTimers());
    afterEach(() => jest.useRealTimers());

    it('a waiter that times out leaves the queue at once and never gets a permit later', async () => {
      const s = new Semaphore(1, 1);
      const held = s.tryAcquire()!;
      const waiter = s.acquire({ timeoutMs: 300 });
      const rejected = rejectionOf(waiter);
      jest.advanceTimersByTime(299);
      expect(s.queued).toBe(1);
      jest.advanceTimersByTime(1);
      expect((await rejected).reason).toBe('timeout');
      expect(s.queued).toBe(0);
      held.release();
      expect(s.inUse).toBe(0);
      expect(s.tryAcquire()).not.toBeNull();
    });

    it('release after a waiter timed out returns the permit to the pool', async () => {
      const s = new Semaphore(1, 2);
      const held = s.tryAcquire()!;
      const late = rejectionOf(s.acquire({ timeoutMs: 100 }));
      const patient = s.acquire({ timeoutMs: 1_000 });
      jest.advanceTimersByTime(100);
      expect((await late).reason).toBe('timeout');
      held.release();
      const permit = await patient;
      expect(s.inUse).toBe(1);
      permit.release();
      expect(s.inUse).toBe(0);
    });
  });

  it('an aborted waiter leaves the queue at once and never gets a permit later', async () => {
    const s = new Semaphore(1, 2);
    const held = s.tryAcquire()!;
    const controller = new AbortController();
    const aborted = rejectionOf(s.acquire({ signal: controller.signal, timeoutMs: 10_000 }));
    const next = s.acquire({ timeoutMs: 10_000 });
    controller.abort();
    expect((await aborted).reason).toBe('aborted');
    expect(s.queued).toBe(1);
    held.release();
    const permit = await next;
    expect(s.inUse).toBe(1);
    permit.release();
    expect(s.inUse).toBe(0);
  });

  it('an already-aborted signal is refused without queueing', async () => {
    const s = new Semaphore(1, 2);
    s.tryAcquire();
    const controller = new AbortController();
    controller.abort();
    expect((await rejectionOf(s.acquire({ signal: controller.signal, timeoutMs: 1000 }))).reason).toBe('aborted');
    expect(s.queued).toBe(0);
  });

  it('a double release cannot inflate the count', async () => {
    const s = new Semaphore(2, 1);
    const a = s.tryAcquire()!;
    const b = s.tryAcquire()!;
    const waiter = s.acquire({ timeoutMs: 10_000 });
    a.release();
    a.release();
    a.release();
    const c = await waiter;
    expect(s.inUse).toBe(2);
    expect(s.tryAcquire()).toBeNull();
    b.release();
    c.release();
    c.release();
    expect(s.inUse).toBe(0);
  });

  it('10,000 random steps of acquire, release, timeout and abort: every outcome happens, and the counts always match what is held and queued', async () => {
    // Fake timers, so a waiter times out exactly when the test moves the clock, never because
    // the machine was slow; setImmediate stays real so settle() still lets promise callbacks run.
    jest.useFakeTimers({ doNotFake: ['setImmediate'] });
    try {
      const random = seededRandom(42);
      const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)];
      const s = new Semaphore(3, 4);
      /** Permits the test holds; a permit counts once its acquire() has resolved. */
      const held: Permit[] = [];
      /** Waiters in the queue, by the controller that can abort them; removed once settled. */
      const waiting = new Set<AbortController>();
      const outcomes = { immediate: 0, afterWaiting: 0, timeout: 0, aborted: 0, queue_full: 0 };
      let acquires = 0;
      for (let step = 0; step < 10_000; step++) {
        const r = random();
        if (r < 0.4) {
          acquires++;
          const controller = new AbortController();
          const queuedBefore = s.queued;
          const acquired = s.acquire({ signal: controller.signal, timeoutMs: 1 + Math.floor(random() * 4) });
          const queued = s.queued > queuedBefore;
          if (queued) waiting.add(controller);
          void acquired
            .then(
              (permit) => {
                outcomes[queued ? 'afterWaiting' : 'immediate']++;
                held.push(permit);
              },
              (error: unknown) => {
                if (!(error instanceof SemaphoreRejection)) throw error;
                outcomes[error.reason]++;
              },
            )
            .finally(() => waiting.delete(controller));
        } else if (r < 0.65 && held.length > 0) {
          const permit = held.splice(Math.floor(random() * held.length), 1)[0];
          permit.release();
          if (random() < 0.2) permit.release();
        } else if (r < 0.8 && waiting.size > 0) {
          pick([...waiting]).abort();
        } else {
          jest.advanceTimersByTime(1 + Math.floor(random() * 2));
        }
        await settle();
        expect({ step, inUse: s.inUse, queued: s.queued }).toEqual({ step, inUse: held.length, queued: waiting.size });
        expect(s.inUse).toBeLessThanOrEqual(3);
        expect(s.queued).toBeLessThanOrEqual(4);
      }
      for (const controller of waiting) controller.abort();
      await settle();
      while (held.length > 0) held.pop()!.release();

      // Every kind of outcome really happened, many times, and every acquire had exactly one.
      expect(Object.entries(outcomes).filter(([, count]) => count < 20)).toEqual([]);
      expect(Object.values(outcomes).reduce((a, b) => a + b, 0)).toBe(acquires);
      expect(s.inUse).toBe(0);
      expect(s.queued).toBe(0);
      // All three permits are back in the pool.
      expect([s.tryAcquire(), s.tryAcquire(), s.tryAcquire(), s.tryAcquire()].map((p) => p !== null)).toEqual([true, true, true, false]);
    } finally {
      jest.useRealTimers();
    }
  });
});
