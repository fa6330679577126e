/** Why a waiter did not get a permit. */
export type SemaphoreRejectionReason = 'queue_full' | 'timeout' | 'aborted';

export class SemaphoreRejection extends Error {
  constructor(readonly reason: SemaphoreRejectionReason) {
    super(`no permit: ${reason}`);
    this.name = 'SemaphoreRejection';
  }
}

/** A granted permit. `release()` gives it back once; later calls do nothing. */
export interface Permit {
  release(): void;
}

interface Waiter {
  prev: Waiter | null;
  next: Waiter | null;
  grant(permit: Permit): void;
}

export interface AcquireOptions {
  /** Aborting it while queued removes the waiter at once. */
  readonly signal?: AbortSignal;
  /** How long to wait in the queue; 0 or absent with a full limit fails at once. */
  readonly timeoutMs?: number;
}

/**
 * A counting semaphore with a bounded FIFO queue (pure, no Nest). A waiter that times out or is
 * aborted leaves the queue immediately and can never be granted later; every permit is an
 * object whose release is idempotent, so a double release cannot inflate the count.
 */
export class Semaphore {
  private used = 0;
  private waiting = 0;
  private head: Waiter | null = null;
  private tail: Waiter | null = null;

  constructor(
    readonly limit: number,
    readonly maxQueue: number,
  ) {
    if (!Number.isInteger(limit) || limit < 1) throw new RangeError('limit must be a positive integer');
    if (!Number.isInteger(maxQueue) || maxQueue < 0) throw new RangeError('maxQueue must be a non-negative integer');
  }

  get inUse(): number {
    return this.used;
  }

  get queued(): number {
    return this.waiting;
  }

  /** A permit now, or null; never waits. */
  tryAcquire(): Permit | null {
    if (this.used >= this.limit || this.waiting > 0) return null;
    this.used++;
    return this.newPermit();
  }

  /** A permit now, or after waiting in the queue; rejects with SemaphoreRejection. */
  acquire(options: AcquireOptions = {}): Promise<Permit> {
    const { signal, timeoutMs = 0 } = options;
    // An aborted caller gets nothing, not even a free permit: nobody would give it back.
    if (signal?.aborted) return Promise.reject(new SemaphoreRejection('aborted'));
    const now = this.tryAcquire();
    if (now) return Promise.resolve(now);
    if (this.waiting >= this.maxQueue || timeoutMs <= 0) return Promise.reject(new SemaphoreRejection('queue_full'));
    return new Promise<Permit>((resolve, reject) => {
      const leave = (reason: SemaphoreRejectionReason): void => {
        this.unlink(waiter);
        cleanup();
        reject(new SemaphoreRejection(reason));
      };
      const onAbort = (): void => leave('aborted');
      const timer = setTimeout(() => leave('timeout'), timeoutMs);
      // A queued request is kept alive by its socket, not by this timer.
      timer.unref();
      const cleanup = (): void => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
      };
      const waiter: Waiter = {
        prev: null,
        next: null,
        grant: (permit) => {
          cleanup();
          resolve(permit);
        },
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.append(waiter);
    });
  }

  private newPermit(): Permit {
    let held = true;
    return {
      release: () => {
        if (!held) return;
        held = false;
        this.handOver();
      },
    };
  }

  /** A released permit goes straight to the oldest waiter, or back to the pool. */
  private handOver(): void {
    const next = this.head;
    if (next === null) {
      this.used--;
      return;
    }
    this.unlink(next);
    next.grant(this.newPermit());
  }

  private append(waiter: Waiter): void {
    waiter.prev = this.tail;
    if (this.tail) this.tail.next = waiter;
    else this.head = waiter;
    this.tail = waiter;
    this.waiting++;
  }

  private unlink(waiter: Waiter): void {
    if (waiter.prev) waiter.prev.next = waiter.next;
    else if (this.head === waiter) this.head = waiter.next;
    else return; // already out of the queue
    if (waiter.next) waiter.next.prev = waiter.prev;
    else this.tail = waiter.prev;
    waiter.prev = waiter.next = null;
    this.waiting--;
  }
}
