import { AsyncLocalStorage } from 'node:async_hooks';
import { performance } from 'node:perf_hooks';
import { DeadlineQueue } from './deadline-queue';

/** Resolves with what `schedule`'s callback saw: the async-context store at expiry and when it fired. */
function expiry(queue: DeadlineQueue, als: AsyncLocalStorage<string>, store: string, durationMs: number): Promise<{ store: string | undefined; at: number }> {
  return new Promise((resolve) => als.run(store, () => queue.schedule(durationMs, () => resolve({ store: als.getStore(), at: performance.now() }))));
}

describe('DeadlineQueue', () => {
  it('expires deadlines of one duration in order, and no earlier than their duration', async () => {
    const queue = new DeadlineQueue();
    const als = new AsyncLocalStorage<string>();
    const started = performance.now();
    const fired = await Promise.all([expiry(queue, als, 'a', 30), expiry(queue, als, 'b', 30), expiry(queue, als, 'c', 60)]);
    expect(fired[0].at - started).toBeGreaterThanOrEqual(29);
    expect(fired[1].at).toBeGreaterThanOrEqual(fired[0].at);
    expect(fired[2].at - started).toBeGreaterThanOrEqual(59);
  });

  it('a cancelled deadline never fires', async () => {
    const queue = new DeadlineQueue();
    let cancelledFired = false;
    const cancelled = queue.schedule(10, () => (cancelledFired = true));
    cancelled.cancel();
    cancelled.cancel();
    await new Promise<void>((resolve) => queue.schedule(20, resolve));
    expect(cancelledFired).toBe(false);
  });

  it('runs expiries outside the async context of the request that armed the timer', async () => {
    const queue = new DeadlineQueue();
    const als = new AsyncLocalStorage<string>();
    // The first request arms the lane's timer; the second is scheduled while it is armed.
    const [first, second] = await Promise.all([expiry(queue, als, 'first request', 20), expiry(queue, als, 'second request', 20)]);
    expect(first.store).toBeUndefined();
    expect(second.store).toBeUndefined();
    // The lane re-arms after firing; that timer must not carry a request context either.
    expect((await expiry(queue, als, 'third request', 20)).store).toBeUndefined();
  });
});
