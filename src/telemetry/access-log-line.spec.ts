import { formatAccessLogLine, isoTime, type AccessLogEntry } from './access-log-line';

const entry: AccessLogEntry = {
  method: 'GET',
  path: '/api/items/42',
  route: 'items',
  upstream: 'catalog',
  target: 'http://127.0.0.1:8080',
  status: 200,
  code: null,
  truncated: false,
  durationMs: 3.4567,
  upstreamMs: 2.001,
  bytesIn: 0,
  bytesOut: 1234,
  traceId: '0af7651916cd43dd8448eb211c80319c',
  requestId: '0af7651916cd43dd8448eb211c80319c',
};

describe('formatAccessLogLine', () => {
  it('writes the fields pino would, in one JSON object per line', () => {
    const time = Date.UTC(2026, 11, 1, 5, 12, 34, 56);
    const line = formatAccessLogLine(entry, time);
    expect(line.endsWith('}\n')).toBe(true);
    expect(JSON.parse(line)).toEqual({
      level: 'info',
      time: '2026-12-01T05:12:34.056Z',
      traceId: entry.traceId,
      requestId: entry.requestId,
      msg: 'request',
      method: 'GET',
      path: '/api/items/42',
      route: 'items',
      upstream: 'catalog',
      target: 'http://127.0.0.1:8080',
      status: 200,
      durationMs: 3.46,
      upstreamMs: 2,
      bytesIn: 0,
      bytesOut: 1234,
    });
  });

  it('stays valid JSON whatever a client put in the path or its request id, and names code and truncation', () => {
    const hostile = '/a"b\\c\u0000\u001f\u2028é\n{"level":"error"}';
    const line = formatAccessLogLine({ ...entry, path: hostile, requestId: 'id"\\\n', route: null, upstream: null, target: null, upstreamMs: null, code: 'upstream_timeout', truncated: true }, 0);
    expect(line.split('\n')).toHaveLength(2);
    const parsed = JSON.parse(line) as Record<string, unknown>;
    expect(parsed).toMatchObject({ path: hostile, requestId: 'id"\\\n', route: null, upstream: null, target: null, upstreamMs: null, code: 'upstream_timeout', truncated: true });
    expect(parsed.time).toBe('1970-01-01T00:00:00.000Z');
  });
});

describe('isoTime', () => {
  it('is Date.prototype.toISOString, across milliseconds, seconds, days and years, in any order', () => {
    const base = Date.UTC(2026, 11, 31, 23, 59, 58, 990);
    const times: number[] = [];
    for (let ms = base; ms < base + 2_100; ms += 7) times.push(ms);
    // Back and forth across second boundaries: the cached second must follow.
    times.push(base + 1_010, base + 9, base + 1_999, base + 10, 0, 999, 1_000, Date.UTC(2000, 1, 29, 12, 0, 0, 5));
    for (const ms of times) expect(isoTime(ms)).toBe(new Date(ms).toISOString());
  });

  it('drops a fraction of a millisecond, as toISOString does', () => {
    const ms = Date.UTC(2026, 0, 2, 3, 4, 5, 6);
    expect(isoTime(ms + 0.75)).toBe(new Date(ms).toISOString());
  });
});
