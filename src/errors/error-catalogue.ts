/** docs/errors.md "Errors and status codes": every error the gateway itself produces, with its status and reason phrase. */
export const ERROR_CATALOGUE = {
  bad_request: { status: 400, error: 'Bad Request' },
  /** An admin reload of a config file that does not validate; the body lists every error. */
  invalid_config: { status: 400, error: 'Bad Request' },
  unauthorized: { status: 401, error: 'Unauthorized' },
  forbidden: { status: 403, error: 'Forbidden' },
  no_route: { status: 404, error: 'Not Found' },
  method_not_allowed: { status: 405, error: 'Method Not Allowed' },
  /** The request head did not arrive within `server.headersTimeoutMs`, or its body stalled for `server.bodyIdleTimeoutMs`. */
  request_timeout: { status: 408, error: 'Request Timeout' },
  body_too_large: { status: 413, error: 'Payload Too Large' },
  /** A request head over `server.maxHeaderBytes`, or more header lines than the gateway accepts. */
  headers_too_large: { status: 431, error: 'Request Header Fields Too Large' },
  rate_limited: { status: 429, error: 'Too Many Requests' },
  concurrency_limit: { status: 429, error: 'Too Many Requests' },
  queue_timeout: { status: 429, error: 'Too Many Requests' },
  internal_error: { status: 500, error: 'Internal Server Error' },
  plugin_error: { status: 500, error: 'Internal Server Error' },
  upstream_unreachable: { status: 502, error: 'Bad Gateway' },
  no_healthy_target: { status: 503, error: 'Service Unavailable' },
  rate_limit_unavailable: { status: 503, error: 'Service Unavailable' },
  shutting_down: { status: 503, error: 'Service Unavailable' },
  upstream_timeout: { status: 504, error: 'Gateway Timeout' },
  /** Never written (the client is gone); used for the access log's 499. */
  client_closed: { status: 499, error: 'Client Closed Request' },
} as const;

export type GatewayErrorCode = keyof typeof ERROR_CATALOGUE;
