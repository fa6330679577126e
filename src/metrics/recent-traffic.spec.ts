import { RecentTraffic } from './recent-traffic';

describe('RecentTraffic', () => {
  const t0 = 1_000_000_000;

  it('reports nothing for an empty window', () => {
    expect(new RecentTraffic().summary(t0)).toEqual({ requestsPerSecond: 0, p50Ms: null, p99Ms: null });
  });

  it('averages requests over ten seconds and finds percentiles within 10%', () => {
    const traffic = new RecentTraffic();
    // 100 requests: 98 at 10 ms, 2 at 500 ms, spread over two seconds.
    for (let i = 0; i < 98; i++) traffic.record(t0 + i * 10, 10);
    traffic.record(t0 + 1500, 500);
    traffic.record(t0 + 1600, 500);
    const summary = traffic.summary(t0 + 1700);
    expect(summary.requestsPerSecond).toBe(10);
    expect(summary.p50Ms).toBeGreaterThan(9);
    expect(summary.p50Ms).toBeLessThan(11);
    expect(summary.p99Ms).toBeGreaterThan(450);
    expect(summary.p99Ms).toBeLessThan(550);
  });

  it('forgets seconds older than ten and reuses their slots', () => {
    const traffic = new RecentTraffic();
    traffic.record(t0, 1000);
    expect(traffic.summary(t0 + 9_999).requestsPerSecond).toBe(0.1);
    expect(traffic.summary(t0 + 10_000).requestsPerSecond).toBe(0);
    // Same slot, ten seconds on: the old second's count and latencies are gone.
    traffic.record(t0 + 10_000, 1);
    const later = traffic.summary(t0 + 10_000);
    expect(later.requestsPerSecond).toBe(0.1);
    expect(later.p99Ms).toBeLessThan(1.2);
  });

  it('keeps very small and very large latencies in the end buckets', () => {
    const traffic = new RecentTraffic();
    traffic.record(t0, 0);
    traffic.record(t0, 10 * 60_000);
    const summary = traffic.summary(t0);
    expect(summary.p50Ms).toBe(0.05);
    expect(summary.p99Ms).toBeGreaterThan(60_000);
  });
});
