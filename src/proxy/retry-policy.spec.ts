import { errors } from 'undici';
import { RetryPolicy } from './retry-policy';

const stale = (): Error => new errors.SocketError('other side closed');
const refused = (): Error => Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' });
const NOT_WRITTEN = { requestWritten: false };
const WRITTEN = { requestWritten: true };

describe('RetryPolicy', () => {
  describe('replay after a broken connection, before any response', () => {
    it('replays a POST none of which was written (the upstream cannot have seen it), once', () => {
      const policy = new RetryPolicy('POST', 0, false);
      expect(policy.retriesError(0, stale(), NOT_WRITTEN, true)).toBe(true);
      expect(policy.retriesError(1, stale(), NOT_WRITTEN, true)).toBe(false);
    });

    it('never replays a POST or PATCH that was written: the upstream may have acted on it', () => {
      expect(new RetryPolicy('POST', 3, false).retriesError(0, stale(), WRITTEN, true)).toBe(false);
      expect(new RetryPolicy('PATCH', 3, false).retriesError(0, stale(), WRITTEN, true)).toBe(false);
      const reset = Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' });
      expect(new RetryPolicy('POST', 0, false).retriesError(0, reset, WRITTEN, true)).toBe(false);
    });

    it.each(['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE'])('replays a written %s once (idempotent)', (method) => {
      const policy = new RetryPolicy(method, 0, false);
      expect(policy.retriesError(0, stale(), WRITTEN, true)).toBe(true);
      expect(policy.retriesError(1, stale(), WRITTEN, true)).toBe(false);
    });

    it('does not replay when part of the body was already read from the client', () => {
      expect(new RetryPolicy('PUT', 0, true).retriesError(0, stale(), NOT_WRITTEN, false)).toBe(false);
    });

    it('does not replay on errors that are not a broken connection', () => {
      const invalid = new errors.HTTPParserError('bad response');
      expect(new RetryPolicy('GET', 0, false).retriesError(0, invalid, NOT_WRITTEN, true)).toBe(false);
    });
  });

  describe('retry.attempts', () => {
    it('retries connect failures of body-less idempotent requests while attempts remain', () => {
      const policy = new RetryPolicy('GET', 2, false);
      expect([0, 1, 2].map((attempt) => policy.retriesError(attempt, refused(), NOT_WRITTEN, true))).toEqual([true, true, false]);
    });

    it('never retries a POST, nor a request with a body, on a connect failure or a 502/503', () => {
      expect(new RetryPolicy('POST', 2, false).retriesError(0, refused(), NOT_WRITTEN, true)).toBe(false);
      expect(new RetryPolicy('POST', 2, false).retriesStatus(0, 503)).toBe(false);
      expect(new RetryPolicy('PUT', 2, true).retriesStatus(0, 502)).toBe(false);
    });

    it('retries 502 and 503 answers of idempotent requests, not other statuses', () => {
      const policy = new RetryPolicy('GET', 1, false);
      expect([502, 503, 500, 504].map((status) => policy.retriesStatus(0, status))).toEqual([true, true, false, false]);
      expect(policy.retriesStatus(1, 503)).toBe(false);
    });
  });
});
