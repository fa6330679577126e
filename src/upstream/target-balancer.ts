import type { LoadBalancing } from '../config/gateway-config.types';
import type { UpstreamTarget } from './upstream-target';

/**
 * Picks a healthy target. Round-robin walks the list; least-request takes the target with the
 * fewest requests in flight, breaking ties round-robin so equal targets share the load.
 * Unhealthy targets are skipped; with none left the answer is null (503 no_healthy_target).
 */
export class TargetBalancer {
  private next = 0;

  constructor(
    private readonly targets: readonly UpstreamTarget[],
    private readonly strategy: LoadBalancing,
  ) {}

  /** The next target; `avoid` (the target a retry just failed on) is skipped when another healthy one exists. */
  pick(avoid?: UpstreamTarget): UpstreamTarget | null {
    const targets = this.targets;
    const count = targets.length;
    let chosen = -1;
    let fallback = -1;
    for (let i = 0; i < count; i++) {
      const at = (this.next + i) % count;
      const candidate = targets[at];
      if (!candidate.healthy) continue;
      if (candidate === avoid) {
        if (fallback === -1) fallback = at;
        continue;
      }
      if (chosen === -1) {
        chosen = at;
        if (this.strategy === 'round-robin') break;
      } else if (candidate.inFlight < targets[chosen].inFlight) {
        chosen = at;
      }
    }
    if (chosen === -1) chosen = fallback;
    if (chosen === -1) return null;
    // Round-robin goes on after the target it took; least-request's starting point moves by
    // one each time, so ties keep rotating.
    this.next = ((this.strategy === 'round-robin' ? chosen : this.next) + 1) % count;
    return targets[chosen];
  }
}
