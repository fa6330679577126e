const MAX_REQUEST_ID_LENGTH = 128;
const VALID_REQUEST_ID = /^[A-Za-z0-9._-]+$/;

/**
 * docs/observability.md "Trace context and request ids": an incoming X-Request-Id is kept when it is 1-128 of [A-Za-z0-9._-].
 * The length is checked first, so a client's 10 KB id costs nothing to refuse.
 */
export function acceptableRequestId(header: string | string[] | undefined): string | null {
  return typeof header === 'string' && header.length <= MAX_REQUEST_ID_LENGTH && VALID_REQUEST_ID.test(header) ? header : null;
}
