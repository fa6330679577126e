/**
 * What the upstream call of a proxied request listens to for its cancellation: the part of
 * AbortSignal it uses, so an AbortSignal fits as well. RequestCancellation is one without an
 * AbortController behind it: on Node an AbortSignal is an EventTarget, and creating one, adding
 * its listener (a Map per signal) and removing it again came to about 1.5% of a proxied
 * request's CPU on Node 24 (bench/README.md "What each change bought").
 */
export interface CancelSignal {
  readonly aborted: boolean;
  /** Why it was aborted (a GatewayError for RequestCancellation); undefined until then. */
  readonly reason: unknown;
  /** `listener` runs once, on the abort; never when added after it (as with an AbortSignal). */
  addEventListener(type: 'abort', listener: () => void): void;
  removeEventListener(type: 'abort', listener: () => void): void;
}
