import { AsyncResource } from 'node:async_hooks';
import type { HealthCheckSettings, PassiveHealthSettings } from '../config/gateway-config.types';

export type HealthState = 'healthy' | 'unhealthy';

/** A change of a target's health, for the log line and the admin figures. */
export interface HealthTransition {
  readonly from: HealthState;
  readonly to: HealthState;
  readonly reason: string;
  /** Date.now() when it happened. */
  readonly at: number;
}

export type TransitionListener = (transition: HealthTransition) => void;

/**
 * Re-admission timers are armed while some request is being handled (its failure ejected the
 * target); armed from this scope instead, they never carry or keep alive that request's trace
 * context.
 */
const OUTSIDE_REQUESTS = new AsyncResource('GatewayTargetHealth');

/**
 * One target's health, from two sources:
 * - active checks (when the upstream has `healthCheck`): `unhealthyThreshold` failed probes in
 *   a row take it out, `healthyThreshold` good ones bring it back;
 * - proxied traffic (`passiveHealth`): `consecutiveFailures` failures in a row eject it for `ejectMs`, doubled for each ejection in a row up to `maxEjectMs`. After
 *   that it is tried again on probation: its first failure ejects it again, for longer; its
 *   first success ends the streak. Where active checks are configured they, not a timer, bring
 *   an ejected target back: passing probes once its ejection period is over.
 * Only failures that say the target itself is unwell count: connect failures and 502, 503 and
 * 504 answers (an application's own 500 on one endpoint does not take the whole target out).
 * It is healthy when neither source has taken it out. Each change is reported once.
 */
export class TargetHealth {
  private state: HealthState = 'healthy';
  private activeDown = false;
  private activeFailures = 0;
  private activeSuccesses = 0;
  private passiveFailures = 0;
  private ejected = false;
  private probation = false;
  private ejectionsInARow = 0;
  /** Date.now() when the current ejection's period ends. */
  private ejectedUntil = 0;
  private readmitTimer: NodeJS.Timeout | null = null;
  private last: HealthTransition | null = null;

  constructor(
    private readonly passive: PassiveHealthSettings,
    private readonly active: HealthCheckSettings | null,
    private readonly onTransition: TransitionListener,
  ) {}

  get healthy(): boolean {
    return this.state === 'healthy';
  }

  /** The last change, or null while it has always been healthy. */
  get lastTransition(): HealthTransition | null {
    return this.last;
  }

  /** A proxied request failed to connect, or the target answered 502, 503 or 504. */
  proxiedFailure(reason: string): void {
    if (this.passive.consecutiveFailures === 0 || this.ejected) return;
    this.passiveFailures++;
    if (this.probation || this.passiveFailures >= this.passive.consecutiveFailures) {
      const why = this.probation ? `failed again after an ejection (${reason})` : `${this.passiveFailures} consecutive failures (last: ${reason})`;
      this.eject(why);
    }
  }

  /** A proxied request got any other answer. */
  proxiedSuccess(): void {
    this.passiveFailures = 0;
    if (this.probation) {
      this.probation = false;
      this.ejectionsInARow = 0;
    }
  }

  /** The result of one active probe. */
  probed(ok: boolean, reason: string): void {
    const active = this.active;
    if (active === null) return;
    if (ok) {
      this.activeFailures = 0;
      this.activeSuccesses++;
      if (this.activeSuccesses < active.healthyThreshold) return;
      const wasOut = this.activeDown || this.ejected;
      this.activeDown = false;
      // An ejection lasts its whole period even when probes pass (the probe path may be fine while
      // traffic fails); after it, passing probes bring the target back on probation.
      if (this.ejected && Date.now() >= this.ejectedUntil) this.readmit();
      if (wasOut) this.update(`${this.activeSuccesses} successful health check(s) (${reason})`);
    } else {
      this.activeSuccesses = 0;
      this.activeFailures++;
      if (this.activeFailures >= active.unhealthyThreshold && !this.activeDown) {
        this.activeDown = true;
        this.update(`${this.activeFailures} failed health check(s) (last: ${reason})`);
      }
    }
  }

  /** Stops the re-admission timer (the gateway is stopping). */
  dispose(): void {
    if (this.readmitTimer !== null) clearTimeout(this.readmitTimer);
    this.readmitTimer = null;
  }

  private eject(reason: string): void {
    this.ejected = true;
    this.probation = false;
    this.passiveFailures = 0;
    this.activeSuccesses = 0;
    const ms = Math.min(this.passive.ejectMs * 2 ** this.ejectionsInARow, this.passive.maxEjectMs);
    this.ejectedUntil = Date.now() + ms;
    this.ejectionsInARow++;
    this.update(`ejected for ${ms} ms: ${reason}`);
    // With active checks, their successes bring the target back; otherwise time does.
    if (this.active !== null) return;
    this.dispose();
    this.readmitTimer = OUTSIDE_REQUESTS.runInAsyncScope(() =>
      setTimeout(() => {
        this.readmitTimer = null;
        this.readmit();
        this.update(`ejection of ${ms} ms over: tried again`);
      }, ms),
    );
    this.readmitTimer.unref();
  }

  /** Back in rotation after an ejection, on probation: the next failure ejects it for longer. */
  private readmit(): void {
    this.dispose();
    this.ejected = false;
    this.probation = true;
  }

  private update(reason: string): void {
    const next: HealthState = this.activeDown || this.ejected ? 'unhealthy' : 'healthy';
    if (next === this.state) return;
    const transition = { from: this.state, to: next, reason, at: Date.now() };
    this.state = next;
    this.last = transition;
    this.onTransition(transition);
  }
}
