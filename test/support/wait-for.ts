import type { EventEmitter } from 'node:events';

/**
 * Resolves when `predicate` holds: at once if it already does, else on the first `change` event
 * of `events` after which it does. Rejects after `timeoutMs`, naming `what` it waited for. Tests
 * that emit 'change' on every state change they care about await states this way, not time.
 */
export function waitFor(events: EventEmitter, predicate: () => boolean, what: string, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    if (predicate()) return resolve();
    const check = (): void => {
      if (!predicate()) return;
      cleanup();
      resolve();
    };
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`));
    }, timeoutMs);
    const cleanup = (): void => {
      clearTimeout(timer);
      events.off('change', check);
    };
    events.on('change', check);
  });
}
