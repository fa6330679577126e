/**
 * Whether the gateway takes new requests, and how many it is still serving. Draining starts at
 * SIGTERM: readiness turns 503, new proxied requests get 503 shutting_down, and shutdown waits
 * for the in-flight count to reach zero (or the grace period to run out).
 */
export class TrafficGate {
  private stopping = false;
  private serving = 0;
  private idle: Array<() => void> = [];

  get draining(): boolean {
    return this.stopping;
  }

  get inFlight(): number {
    return this.serving;
  }

  startDraining(): void {
    this.stopping = true;
  }

  admitted(): void {
    this.serving++;
  }

  /** Called once per admitted request when it ends; bound once, so no closure per request. */
  readonly finished = (): void => {
    if (--this.serving > 0 || this.idle.length === 0) return;
    const waiters = this.idle;
    this.idle = [];
    for (const resolve of waiters) resolve();
  };

  /** Resolves once no admitted request is left. */
  whenIdle(): Promise<void> {
    if (this.serving === 0) return Promise.resolve();
    return new Promise((resolve) => this.idle.push(resolve));
  }
}
