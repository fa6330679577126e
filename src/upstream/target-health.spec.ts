import type { HealthCheckSettings } from '../config/gateway-config.types';
import { TargetHealth, type HealthTransition } from './target-health';

const PASSIVE = { consecutiveFailures: 3, ejectMs: 1000, maxEjectMs: 4000 };
const ACTIVE: HealthCheckSettings = { path: '/healthz', intervalMs: 1000, timeoutMs: 100, unhealthyThreshold: 2, healthyThreshold: 2 };

function tracked(active: HealthCheckSettings | null = null, passive = PASSIVE): { health: TargetHealth; transitions: HealthTransition[] } {
  const transitions: HealthTransition[] = [];
  return { health: new TargetHealth(passive, active, (t) => transitions.push(t)), transitions };
}

const path = (transitions: HealthTransition[]): string[] => transitions.map((t) => `${t.from}->${t.to}`);

describe('TargetHealth', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  describe('passive ejection', () => {
    it('ejects after consecutiveFailures failures in a row, and a success in between resets the count', () => {
      const { health, transitions } = tracked();
      health.proxiedFailure('refused');
      health.proxiedFailure('refused');
      health.proxiedSuccess();
      health.proxiedFailure('refused');
      health.proxiedFailure('refused');
      expect(health.healthy).toBe(true);
      health.proxiedFailure('answered 503');
      expect(health.healthy).toBe(false);
      expect(transitions).toHaveLength(1);
      expect(transitions[0].reason).toBe('ejected for 1000 ms: 3 consecutive failures (last: answered 503)');
    });

    it('tries the target again after ejectMs, on probation: one failure ejects it for twice as long, up to maxEjectMs', () => {
      const { health, transitions } = tracked();
      for (let i = 0; i < 3; i++) health.proxiedFailure('refused');
      jest.advanceTimersByTime(999);
      expect(health.healthy).toBe(false);
      jest.advanceTimersByTime(1);
      expect(health.healthy).toBe(true);

      const ejections: string[] = [];
      for (let round = 0; round < 4; round++) {
        health.proxiedFailure('refused');
        ejections.push(transitions[transitions.length - 1].reason.split(':')[0]);
        jest.advanceTimersByTime(4000);
      }
      expect(ejections).toEqual(['ejected for 2000 ms', 'ejected for 4000 ms', 'ejected for 4000 ms', 'ejected for 4000 ms']);
    });

    it('a success on probation ends the streak: the next ejection is back to ejectMs', () => {
      const { health, transitions } = tracked();
      for (let i = 0; i < 3; i++) health.proxiedFailure('refused');
      jest.advanceTimersByTime(1000);
      health.proxiedSuccess();
      for (let i = 0; i < 3; i++) health.proxiedFailure('refused');
      expect(transitions[transitions.length - 1].reason).toMatch(/^ejected for 1000 ms: 3 consecutive failures/);
    });

    it('consecutiveFailures 0 turns ejection off', () => {
      const { health } = tracked(null, { ...PASSIVE, consecutiveFailures: 0 });
      for (let i = 0; i < 100; i++) health.proxiedFailure('refused');
      expect(health.healthy).toBe(true);
    });
  });

  describe('active checks', () => {
    it('unhealthyThreshold failed probes take the target out, healthyThreshold good ones bring it back, each change reported once', () => {
      const { health, transitions } = tracked(ACTIVE);
      health.probed(false, 'answered 500');
      expect(health.healthy).toBe(true);
      health.probed(false, 'ECONNREFUSED');
      health.probed(false, 'ECONNREFUSED');
      expect(health.healthy).toBe(false);
      health.probed(true, 'answered 200');
      expect(health.healthy).toBe(false);
      health.probed(true, 'answered 200');
      expect(health.healthy).toBe(true);
      expect(path(transitions)).toEqual(['healthy->unhealthy', 'unhealthy->healthy']);
      expect(transitions[0].reason).toBe('2 failed health check(s) (last: ECONNREFUSED)');
    });

    it('bring back a target ejected by traffic once its ejection period is over; no timer does it', () => {
      const { health, transitions } = tracked(ACTIVE);
      health.probed(true, 'answered 200');
      health.probed(true, 'answered 200');
      for (let i = 0; i < 3; i++) health.proxiedFailure('refused');
      expect(health.healthy).toBe(false);
      expect(jest.getTimerCount()).toBe(0);
      // Probes passing during the ejection do not cut it short (successes before it do not count either).
      health.probed(true, 'answered 200');
      health.probed(true, 'answered 200');
      expect(health.healthy).toBe(false);
      jest.advanceTimersByTime(1000);
      health.probed(true, 'answered 200');
      health.probed(true, 'answered 200');
      expect(health.healthy).toBe(true);
      expect(path(transitions)).toEqual(['healthy->unhealthy', 'unhealthy->healthy']);
    });

    it('a target brought back by probes is on probation: failing again ejects it for twice as long', () => {
      const { health, transitions } = tracked(ACTIVE);
      for (let i = 0; i < 3; i++) health.proxiedFailure('answered 503');
      jest.advanceTimersByTime(1000);
      health.probed(true, 'answered 200');
      health.probed(true, 'answered 200');
      expect(health.healthy).toBe(true);
      health.proxiedFailure('answered 503');
      expect(health.healthy).toBe(false);
      expect(transitions[transitions.length - 1].reason).toMatch(/^ejected for 2000 ms: failed again after an ejection/);
    });
  });

  it('1,000 ejections and re-admissions leave at most one timer, and dispose() clears it', () => {
    const { health, transitions } = tracked(null, { consecutiveFailures: 1, ejectMs: 10, maxEjectMs: 10 });
    for (let i = 0; i < 500; i++) {
      health.proxiedFailure('refused');
      expect(jest.getTimerCount()).toBe(1);
      jest.advanceTimersByTime(10);
    }
    expect(transitions).toHaveLength(1000);
    expect(jest.getTimerCount()).toBe(0);
    health.proxiedFailure('refused');
    expect(jest.getTimerCount()).toBe(1);
    health.dispose();
    expect(jest.getTimerCount()).toBe(0);
  });
});
