import type { Permit } from './semaphore';

/**
 * The permits one request holds. `releaseAll()` runs once when the request ends; a permit
 * granted after that (a queued grant that was already on its way) is given straight back,
 * so a request that left while waiting can never keep one.
 */
export class HeldPermits {
  private readonly held: Permit[] = [];
  private done = false;

  /** True once the request has ended and given everything back. */
  get released(): boolean {
    return this.done;
  }

  /** Keeps `permit` for the request; false (and the permit released) if the request already ended. */
  add(permit: Permit): boolean {
    if (this.done) {
      permit.release();
      return false;
    }
    this.held.push(permit);
    return true;
  }

  readonly releaseAll = (): void => {
    this.done = true;
    for (const permit of this.held.splice(0)) permit.release();
  };
}
