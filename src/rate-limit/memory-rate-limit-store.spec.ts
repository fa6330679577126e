import { MemoryRateLimitStore } from './memory-rate-limit-store';

/*
 * Fake timers move performance.now() and the sweep timer together, so windows expire exactly
 * when the test says, with no waiting.
 */
describe('MemoryRateLimitStore', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('counts hits up to the limit, then refuses without counting, and reopens when the window ends', async () => {
    const store = new MemoryRateLimitStore({ maxKeys: 100, sweepIntervalMs: 1000 });
    const answers = [];
    for (let i = 0; i < 8; i++) answers.push(store.hit('k', 2000, 5));
    expect(answers.map((a) => `${a.totalHits}${a.isBlocked ? ' blocked' : ''}`)).toEqual(['1', '2', '3', '4', '5', '5 blocked', '5 blocked', '5 blocked']);
    expect(answers[5]).toMatchObject({ timeToExpire: 2, timeToBlockExpire: 2 });

    jest.advanceTimersByTime(1500);
    expect(store.hit('k', 2000, 5)).toMatchObject({ isBlocked: true, timeToExpire: 1 });
    jest.advanceTimersByTime(500);
    // The refused hits were never counted: a new window has the whole budget.
    expect(store.hit('k', 2000, 5)).toMatchObject({ totalHits: 1, isBlocked: false, timeToExpire: 2 });
    await store.close();
  });

  it('keeps separate budgets per key', async () => {
    const store = new MemoryRateLimitStore();
    store.hit('a', 1000, 1);
    expect(store.hit('a', 1000, 1).isBlocked).toBe(true);
    expect(store.hit('b', 1000, 1).isBlocked).toBe(false);
    await expect(store.increment('c', 1000, 1)).resolves.toMatchObject({ totalHits: 1, isBlocked: false });
    await store.close();
  });

  it('sweeps expired windows out on its timer', async () => {
    const store = new MemoryRateLimitStore({ maxKeys: 1000, sweepIntervalMs: 1000 });
    for (let i = 0; i < 500; i++) store.hit(`client-${i}`, 1500, 10);
    store.hit('long', 10_000, 10);
    expect(store.size).toBe(501);
    jest.advanceTimersByTime(2000);
    expect(store.size).toBe(1);
    await store.close();
  });

  it('never holds more than maxKeys: the oldest window makes room', async () => {
    const store = new MemoryRateLimitStore({ maxKeys: 3, sweepIntervalMs: 60_000 });
    store.hit('first', 10_000, 1);
    store.hit('second', 10_000, 1);
    store.hit('third', 10_000, 1);
    store.hit('fourth', 10_000, 1);
    expect(store.size).toBe(3);
    // 'first' was dropped (its count with it); the others are still counted.
    expect(store.hit('first', 10_000, 1).isBlocked).toBe(false);
    expect(store.hit('fourth', 10_000, 1).isBlocked).toBe(true);
    expect(store.size).toBe(3);
    await store.close();
  });

  it('stops its sweep timer on close', async () => {
    const store = new MemoryRateLimitStore();
    const timers = jest.getTimerCount();
    await store.close();
    expect(jest.getTimerCount()).toBe(timers - 1);
  });
});
