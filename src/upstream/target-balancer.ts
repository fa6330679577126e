import type { LoadBalancing } from '../config/gateway-config.types';
import type { UpstreamTarget } from './upstream-target';

/**
 * Picks a target. Round-robin walks the list; least-request takes the target with the fewest
 * requests in flight, breaking ties round-robin so equal targets share the load.
 */
export class TargetBalancer {
  private next = 0;

  constructor(
    private readonly targets: readonly UpstreamTarget[],
    private readonly strategy: LoadBalancing,
  ) {}

  /** The next target; `avoid` (the target a retry just failed on) is skipped when there is another. */
  pick(avoid?: UpstreamTarget): UpstreamTarget {
    const targets = this.targets;
    let start = this.next;
    if (targets[start] === avoid && targets.length > 1) start = (start + 1) % targets.length;
    this.next = (start + 1) % targets.length;
    if (this.strategy === 'round-robin' || targets.length === 1) return targets[start];
    let best = targets[start];
    for (let i = 1; i < targets.length; i++) {
      const candidate = targets[(start + i) % targets.length];
      if (candidate !== avoid && candidate.inFlight < best.inFlight) best = candidate;
    }
    return best;
  }
}
