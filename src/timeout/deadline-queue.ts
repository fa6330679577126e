import { AsyncResource } from 'node:async_hooks';
import { performance } from 'node:perf_hooks';

/** A scheduled deadline; `cancel()` is idempotent. */
export interface Deadline {
  cancel(): void;
}

interface Entry extends Deadline {
  at: number;
  prev: Entry | null;
  next: Entry | null;
  lane: Lane | null;
  onExpire: () => void;
}

/**
 * Deadlines of one duration: they expire in the order they were scheduled, so a FIFO list and
 * a single timer (armed for the head) serve them all; scheduling and cancelling are O(1).
 */
class Lane {
  head: Entry | null = null;
  tail: Entry | null = null;
  private timer: NodeJS.Timeout | null = null;

  constructor(private readonly scope: AsyncResource) {}

  push(entry: Entry): void {
    entry.prev = this.tail;
    if (this.tail) this.tail.next = entry;
    else this.head = entry;
    this.tail = entry;
    if (this.timer === null) this.arm();
  }

  remove(entry: Entry): void {
    if (entry.prev) entry.prev.next = entry.next;
    else this.head = entry.next;
    if (entry.next) entry.next.prev = entry.prev;
    else this.tail = entry.prev;
    entry.prev = entry.next = null;
    entry.lane = null;
    // The timer is left armed: when it fires early it re-arms for the new head.
  }

  private arm(): void {
    if (this.head === null) return;
    const delay = Math.max(0, this.head.at - performance.now());
    this.timer = this.scope.runInAsyncScope(() => setTimeout(() => this.fire(), delay));
    this.timer.unref();
  }

  private fire(): void {
    this.timer = null;
    const now = performance.now();
    while (this.head !== null && this.head.at <= now + 1) {
      const entry = this.head;
      this.remove(entry);
      entry.onExpire();
    }
    this.arm();
  }
}

/**
 * Per-request deadlines without a `setTimeout` per request: one timer per distinct duration
 * (routes share a handful of `timeoutMs` values), which keeps the hot path free of timer churn.
 */
export class DeadlineQueue {
  private readonly lanes = new Map<number, Lane>();
  /**
   * A timer belongs to the async context it was created in, and a lane's timer is armed by
   * whichever request comes first. Armed from this scope instead (the queue's own, made at
   * start-up), no deadline runs in, or keeps alive, the trace context of an unrelated request.
   */
  private readonly scope = new AsyncResource('GatewayDeadlines');

  schedule(durationMs: number, onExpire: () => void): Deadline {
    let lane = this.lanes.get(durationMs);
    if (!lane) this.lanes.set(durationMs, (lane = new Lane(this.scope)));
    const entry: Entry = {
      at: performance.now() + durationMs,
      prev: null,
      next: null,
      lane,
      onExpire,
      cancel: () => entry.lane?.remove(entry),
    };
    lane.push(entry);
    return entry;
  }
}
