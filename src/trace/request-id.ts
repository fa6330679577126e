const VALID_REQUEST_ID = /^[A-Za-z0-9._-]{1,128}$/;

/** README "Trace context and request ids": an incoming X-Request-Id is kept when it is 1-128 of [A-Za-z0-9._-]. */
export function acceptableRequestId(header: string | string[] | undefined): string | null {
  return typeof header === 'string' && VALID_REQUEST_ID.test(header) ? header : null;
}
