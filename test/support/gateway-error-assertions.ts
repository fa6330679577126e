import { STATUS_CODES } from 'node:http';
import type { ErrorBody } from '../../src/errors/error-response';
import type { ParsedResponse } from './http';

/**
 * The JSON error of docs/errors.md "Errors and status codes", exactly: the status, a JSON content type, no keys but the
 * documented ones, `error` the status's reason phrase, the `code`, a non-empty `message`, `route` only
 * when a route matched (and then the one given), `traceId` a string when present. Returns the body.
 */
export function expectGatewayError(res: ParsedResponse, status: number, code: string, route: string | null): ErrorBody {
  // Compared with the body alongside, so a failure shows what the gateway answered instead.
  expect({ status: res.status, body: res.text }).toMatchObject({ status });
  expect(res.headers['content-type']).toMatch(/^application\/json\b/);
  const body = JSON.parse(res.text) as ErrorBody;
  const allowed = ['statusCode', 'error', 'code', 'message', 'route', 'traceId'];
  expect(Object.keys(body).filter((key) => !allowed.includes(key))).toEqual([]);
  expect(body.statusCode).toBe(status);
  expect(body.error).toBe(STATUS_CODES[status]);
  expect(body.code).toBe(code);
  expect(typeof body.message).toBe('string');
  expect(body.message.length).toBeGreaterThan(0);
  if (route === null) expect('route' in body).toBe(false);
  else expect(body.route).toBe(route);
  if ('traceId' in body) expect(typeof body.traceId).toBe('string');
  return body;
}
