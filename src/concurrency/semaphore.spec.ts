import { Semaphore, SemaphoreRejection, type Permit } from './semaphore';

/** Lets queued promise callbacks run. */
const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

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

  it('10,000 random interleavings of acquire, release, timeout and abort end with nothing held or queued', async () => {
    let seed = 42;
    const random = (): number => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    const s = new Semaphore(3, 4);
    const held: Permit[] = [];
    const pending: Array<{ controller: AbortController; done: Promise<void> }> = [];
    let granted = 0;
    let refused = 0;
    for (let step = 0; step < 10_000; step++) {
      const r = random();
      if (r < 0.35) {
        const p = s.tryAcquire();
        if (p) held.push(p);
      } else if (r < 0.6) {
        const controller = new AbortController();
        const done = s.acquire({ signal: controller.signal, timeoutMs: 1 + Math.floor(random() * 3) }).then(
          (p) => {
            granted++;
            held.push(p);
          },
          () => {
            refused++;
          },
        );
        pending.push({ controller, done });
      } else if (r < 0.85 && held.length > 0) {
        const p = held.splice(Math.floor(random() * held.length), 1)[0];
        p.release();
        if (random() < 0.2) p.release();
      } else if (pending.length > 0) {
        pending[Math.floor(random() * pending.length)].controller.abort();
      }
      expect(s.inUse).toBeLessThanOrEqual(3);
      expect(s.queued).toBeLessThanOrEqual(4);
      if (step % 500 === 0) await settle();
    }
    for (const { controller } of pending) controller.abort();
    await Promise.all(pending.map((p) => p.done));
    while (held.length > 0) held.pop()!.release();
    expect(granted + refused).toBe(pending.length);
    expect(granted).toBeGreaterThan(0);
    expect(s.inUse).toBe(0);
    expect(s.queued).toBe(0);
  });
});
