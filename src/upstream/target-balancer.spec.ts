import { TargetBalancer } from './target-balancer';
import { TargetHealth } from './target-health';
import { UpstreamTarget } from './upstream-target';

function targets(count: number): UpstreamTarget[] {
  return Array.from({ length: count }, (_, i) => new UpstreamTarget(`http://127.0.0.1:${3001 + i}`));
}

function picks(balancer: TargetBalancer, count: number): string[] {
  return Array.from({ length: count }, () => balancer.pick()?.url ?? 'none');
}

/** A target taken out by passive health (one failure ejects it for a minute). */
function unhealthy(url: string): UpstreamTarget {
  const target = new UpstreamTarget(url, new TargetHealth({ consecutiveFailures: 1, ejectMs: 60_000, maxEjectMs: 60_000 }, null, () => undefined));
  target.health.proxiedFailure('refused');
  target.health.dispose();
  return target;
}

describe('TargetBalancer', () => {
  describe('round-robin', () => {
    it('walks the targets in order and wraps around', () => {
      const [a, b, c] = targets(3);
      const balancer = new TargetBalancer([a, b, c], 'round-robin');
      expect(picks(balancer, 7)).toEqual([a.url, b.url, c.url, a.url, b.url, c.url, a.url]);
    });

    it('ignores requests in flight', () => {
      const [a, b] = targets(2);
      a.inFlight = 100;
      const balancer = new TargetBalancer([a, b], 'round-robin');
      expect(picks(balancer, 4)).toEqual([a.url, b.url, a.url, b.url]);
    });

    it('always returns the only target', () => {
      const [a] = targets(1);
      expect(picks(new TargetBalancer([a], 'round-robin'), 3)).toEqual([a.url, a.url, a.url]);
    });

    it('spreads evenly over many picks', () => {
      const list = targets(4);
      const balancer = new TargetBalancer(list, 'round-robin');
      const counts = new Map<string, number>();
      for (const url of picks(balancer, 400)) counts.set(url, (counts.get(url) ?? 0) + 1);
      expect([...counts.values()]).toEqual([100, 100, 100, 100]);
    });
  });

  describe('least-request', () => {
    it('picks the target with the fewest requests in flight', () => {
      const [a, b, c] = targets(3);
      a.inFlight = 3;
      b.inFlight = 1;
      c.inFlight = 2;
      const balancer = new TargetBalancer([a, b, c], 'least-request');
      expect(picks(balancer, 5)).toEqual([b.url, b.url, b.url, b.url, b.url]);
    });

    it('follows inFlight as it changes', () => {
      const [a, b, c] = targets(3);
      const balancer = new TargetBalancer([a, b, c], 'least-request');
      a.inFlight = 5;
      b.inFlight = 5;
      c.inFlight = 0;
      expect(balancer.pick()).toBe(c);
      c.inFlight = 9;
      a.inFlight = 1;
      expect(balancer.pick()).toBe(a);
      a.inFlight = 6;
      expect(balancer.pick()).toBe(b);
    });

    it('rotates among targets that tie', () => {
      const [a, b, c] = targets(3);
      const balancer = new TargetBalancer([a, b, c], 'least-request');
      expect(picks(balancer, 6)).toEqual([a.url, b.url, c.url, a.url, b.url, c.url]);
    });

    it('rotates only among the tied lowest, never picking a busier target', () => {
      const [a, b, c, d] = targets(4);
      a.inFlight = 4;
      b.inFlight = 0;
      c.inFlight = 7;
      d.inFlight = 0;
      const balancer = new TargetBalancer([a, b, c, d], 'least-request');
      const picked = picks(balancer, 40);
      expect(new Set(picked)).toEqual(new Set([b.url, d.url]));
      const bCount = picked.filter((url) => url === b.url).length;
      expect(bCount).toBeGreaterThanOrEqual(10);
      expect(40 - bCount).toBeGreaterThanOrEqual(10);
    });

    it('simulates load: in-flight requests keep the spread even', () => {
      const list = targets(3);
      const balancer = new TargetBalancer(list, 'least-request');
      // Each pick starts a request that never ends: least-request must fill targets evenly.
      for (let i = 0; i < 30; i++) balancer.pick()!.inFlight++;
      expect(list.map((t) => t.inFlight)).toEqual([10, 10, 10]);
    });

    it('always returns the only target', () => {
      const [a] = targets(1);
      a.inFlight = 50;
      expect(picks(new TargetBalancer([a], 'least-request'), 2)).toEqual([a.url, a.url]);
    });
  });
});

describe('TargetBalancer and target health', () => {
  it.each(['round-robin', 'least-request'] as const)('%s skips unhealthy targets', (strategy) => {
    const [a, c] = targets(2);
    const b = unhealthy('http://127.0.0.1:4002');
    expect(b.healthy).toBe(false);
    const picked = picks(new TargetBalancer([a, b, c], strategy), 6);
    expect(picked.filter((url) => url === b.url)).toEqual([]);
    expect(new Set(picked)).toEqual(new Set([a.url, c.url]));
  });

  it.each(['round-robin', 'least-request'] as const)('%s answers null when no target is healthy', (strategy) => {
    const balancer = new TargetBalancer([unhealthy('http://127.0.0.1:4001'), unhealthy('http://127.0.0.1:4002')], strategy);
    expect(balancer.pick()).toBeNull();
  });

  it('a retry avoids the target that failed when another healthy one exists, and takes it again when it is the only one', () => {
    const [a] = targets(1);
    const b = unhealthy('http://127.0.0.1:4002');
    const balancer = new TargetBalancer([a, b], 'round-robin');
    expect(balancer.pick(a)).toBe(a);
  });
});

describe('UpstreamTarget', () => {
  it('splits the origin from a base path without its trailing slash', () => {
    const target = new UpstreamTarget('http://127.0.0.1:3001/base/v1/');
    expect(target.origin).toBe('http://127.0.0.1:3001');
    expect(target.basePath).toBe('/base/v1');
    expect(new UpstreamTarget('https://api.example.com').basePath).toBe('');
    expect(new UpstreamTarget('https://api.example.com/').basePath).toBe('');
  });

  it('starts healthy with nothing in flight', () => {
    const target = new UpstreamTarget('http://a.example.com');
    expect(target.inFlight).toBe(0);
    expect(target.healthy).toBe(true);
  });
});
