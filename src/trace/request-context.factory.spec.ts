import { IncomingMessage, type IncomingHttpHeaders } from 'node:http';
import { Socket } from 'node:net';
import type { RequestContext } from './request-context';
import { createRequestContext, upstreamTraceHeaders } from './request-context.factory';
import { parseTraceParent } from './traceparent';

/*
 * docs/observability.md "Trace context and request ids": a valid incoming traceparent keeps its trace-id and the upstream hop gets a new
 * parent-id; without one a new trace starts. X-Request-Id is kept when it is 1-128 characters
 * of [A-Za-z0-9._-], otherwise generated. tracestate travels only with a valid traceparent
 * (W3C: a tracestate without a valid traceparent must not be propagated).
 */

const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
const PARENT_ID = '00f067aa0ba902b7';
const TRACEPARENT = `00-${TRACE_ID}-${PARENT_ID}-01`;
const TRACE_ID_FORMAT = /^[0-9a-f]{32}$/;
const SPAN_ID_FORMAT = /^[0-9a-f]{16}$/;
const REQUEST_ID_FORMAT = /^[A-Za-z0-9._-]{1,128}$/;

function requestWith(headers: IncomingHttpHeaders): IncomingMessage {
  const req = new IncomingMessage(new Socket());
  req.headers = headers;
  return req;
}

function contextFor(headers: IncomingHttpHeaders): RequestContext {
  return createRequestContext(requestWith(headers));
}

function expectNewTraceId(id: string): void {
  expect(id).toMatch(TRACE_ID_FORMAT);
  expect(id).not.toBe('0'.repeat(32));
}

function expectNewSpanId(id: string): void {
  expect(id).toMatch(SPAN_ID_FORMAT);
  expect(id).not.toBe('0'.repeat(16));
}

describe('createRequestContext: trace ids', () => {
  it('keeps the trace-id and flags of a valid traceparent and opens a span of its own', () => {
    const context = contextFor({ traceparent: TRACEPARENT });
    expect(context.traceId).toBe(TRACE_ID);
    expect(context.traceFlags).toBe('01');
    expectNewSpanId(context.spanId);
    expect(context.spanId).not.toBe(PARENT_ID);
  });

  it('keeps flags 00 (not sampled) as they came', () => {
    expect(contextFor({ traceparent: `00-${TRACE_ID}-${PARENT_ID}-00` }).traceFlags).toBe('00');
  });

  it('continues a future-version traceparent', () => {
    const context = contextFor({ traceparent: `cc-${TRACE_ID}-${PARENT_ID}-01-what-the-future-will-be-like` });
    expect(context.traceId).toBe(TRACE_ID);
  });

  it('two requests of the same trace get different spans', () => {
    const first = contextFor({ traceparent: TRACEPARENT });
    const second = contextFor({ traceparent: TRACEPARENT });
    expect(second.traceId).toBe(first.traceId);
    expect(second.spanId).not.toBe(first.spanId);
  });

  it('starts a new, sampled trace without a traceparent', () => {
    const context = contextFor({});
    expectNewTraceId(context.traceId);
    expectNewSpanId(context.spanId);
    expect(context.traceFlags).toBe('01');
  });

  it.each<[string, string | string[]]>([
    ['version ff', `ff-${TRACE_ID}-${PARENT_ID}-01`],
    ['an all-zero trace-id', `00-${'0'.repeat(32)}-${PARENT_ID}-01`],
    ['an all-zero parent-id', `00-${TRACE_ID}-${'0'.repeat(16)}-01`],
    ['an upper-case trace-id', `00-${TRACE_ID.toUpperCase()}-${PARENT_ID}-01`],
    ['garbage', 'not-a-traceparent'],
    ['an empty value', ''],
    ['an array', [TRACEPARENT]],
  ])('starts a new trace when the traceparent is invalid (%s)', (_name, traceparent) => {
    const context = contextFor({ traceparent });
    expectNewTraceId(context.traceId);
    expect(context.traceId).not.toBe(TRACE_ID);
    expect(context.traceFlags).toBe('01');
  });

  it('new traces are distinct', () => {
    const ids = new Set(Array.from({ length: 1000 }, () => contextFor({}).traceId));
    expect(ids.size).toBe(1000);
  });

  it('starts with nothing of the pipeline filled in', () => {
    const context = contextFor({ traceparent: TRACEPARENT });
    expect(context).toMatchObject({ route: null, upstream: null, target: null, code: null, bytesIn: 0 });
    expect(typeof context.startedAt).toBe('number');
  });
});

describe('createRequestContext: tracestate', () => {
  it('is kept with a valid traceparent', () => {
    expect(contextFor({ traceparent: TRACEPARENT, tracestate: 'congo=t61rcWkgMzE,rojo=00f067aa0ba902b7' }).tracestate).toBe(
      'congo=t61rcWkgMzE,rojo=00f067aa0ba902b7',
    );
  });

  it('is dropped without a traceparent', () => {
    expect(contextFor({ tracestate: 'congo=t61rcWkgMzE' }).tracestate).toBeUndefined();
  });

  it('is dropped with an invalid traceparent', () => {
    expect(contextFor({ traceparent: `00-${'0'.repeat(32)}-${PARENT_ID}-01`, tracestate: 'congo=t61rcWkgMzE' }).tracestate).toBeUndefined();
    expect(contextFor({ traceparent: `ff-${TRACE_ID}-${PARENT_ID}-01`, tracestate: 'congo=t61rcWkgMzE' }).tracestate).toBeUndefined();
  });
});

describe('createRequestContext: X-Request-Id', () => {
  const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-';

  it.each<[string, string]>([
    ['one character', 'a'],
    ['a UUID', '9b2f6f5c-3a7e-4c1b-9d0e-1f2a3b4c5d6e'],
    ['every allowed character', ALPHABET],
    ['dots, dashes and underscores only', '._-'],
    ['exactly 128 characters', ALPHABET.repeat(2).slice(0, 128)],
  ])('keeps a valid one (%s)', (_name, id) => {
    expect(contextFor({ 'x-request-id': id }).requestId).toBe(id);
    expect(contextFor({ 'x-request-id': id, traceparent: TRACEPARENT }).requestId).toBe(id);
  });

  it.each<[string, string | string[]]>([
    ['129 characters', 'a'.repeat(129)],
    ['far too long', 'b'.repeat(10_000)],
    ['empty', ''],
    ['a space', 'abc def'],
    ['a slash', 'abc/def'],
    ['a colon', 'abc:def'],
    ['a plus sign', 'abc+def'],
    ['an equals sign (base64 padding)', 'YWJj=='],
    ['a comma (two headers joined)', 'abc, def'],
    ['a non-ASCII letter', 'caf\u00e9'],
    ['a newline', 'abc\ndef'],
    ['a NUL', 'abc\u0000def'],
    ['an array', ['abc']],
  ])('generates one instead of an invalid one (%s)', (_name, id) => {
    for (const headers of [{ 'x-request-id': id }, { 'x-request-id': id, traceparent: TRACEPARENT }]) {
      const requestId = contextFor(headers).requestId;
      expect(requestId).toMatch(REQUEST_ID_FORMAT);
      expect(requestId).not.toBe(id);
      // Not a trimmed or cleaned-up copy of the client's value either.
      if (typeof id === 'string' && id.length > 0) expect(id.startsWith(requestId)).toBe(false);
    }
  });

  it('generates a valid, unique one when there is none', () => {
    const ids = new Set<string>();
    for (let i = 0; i < 500; i++) {
      const requestId = contextFor(i % 2 === 0 ? {} : { traceparent: TRACEPARENT }).requestId;
      expect(requestId).toMatch(REQUEST_ID_FORMAT);
      ids.add(requestId);
    }
    expect(ids.size).toBe(500);
  });

  it('requests of the same trace get different generated request ids', () => {
    const first = contextFor({ traceparent: TRACEPARENT });
    const second = contextFor({ traceparent: TRACEPARENT });
    expect(first.requestId).not.toBe(second.requestId);
  });
});

describe('upstreamTraceHeaders', () => {
  it('continues the incoming trace with a new parent-id (the gateway span)', () => {
    const context = contextFor({ traceparent: TRACEPARENT, 'x-request-id': 'req-1' });
    const headers = upstreamTraceHeaders(context);
    expect(typeof headers.traceparent).toBe('string');
    const sent = parseTraceParent(headers.traceparent as string);
    expect(sent).not.toBeNull();
    expect(headers.traceparent).toMatch(/^00-/);
    expect(sent!.traceId).toBe(TRACE_ID);
    expect(sent!.parentId).not.toBe(PARENT_ID);
    expect(sent!.parentId).toBe(context.spanId);
    expect(sent!.flags).toBe('01');
    expect(headers['x-request-id']).toBe('req-1');
  });

  it('keeps unsampled flags', () => {
    const headers = upstreamTraceHeaders(contextFor({ traceparent: `00-${TRACE_ID}-${PARENT_ID}-00` }));
    expect(parseTraceParent(headers.traceparent as string)?.flags).toBe('00');
  });

  it('sends a version 00 traceparent when a future version came in', () => {
    const headers = upstreamTraceHeaders(contextFor({ traceparent: `cc-${TRACE_ID}-${PARENT_ID}-01-what-the-future-will-be-like` }));
    expect(headers.traceparent).toHaveLength(55);
    expect(headers.traceparent).toMatch(new RegExp(`^00-${TRACE_ID}-[0-9a-f]{16}-01$`));
  });

  it('sends the new trace of a request without a traceparent, and its generated request id', () => {
    const context = contextFor({});
    const headers = upstreamTraceHeaders(context);
    const sent = parseTraceParent(headers.traceparent as string);
    expect(sent).toEqual({ traceId: context.traceId, parentId: context.spanId, flags: '01' });
    expect(headers['x-request-id']).toBe(context.requestId);
    expect(headers['x-request-id']).toMatch(REQUEST_ID_FORMAT);
  });

  it('each request of the same trace sends its own parent-id', () => {
    const parents = new Set(
      Array.from({ length: 100 }, () => parseTraceParent(upstreamTraceHeaders(contextFor({ traceparent: TRACEPARENT })).traceparent as string)!.parentId),
    );
    expect(parents.size).toBe(100);
    expect(parents.has(PARENT_ID)).toBe(false);
  });

  it('sends tracestate only when the incoming traceparent was valid', () => {
    expect(upstreamTraceHeaders(contextFor({ traceparent: TRACEPARENT, tracestate: 'congo=t61rcWkgMzE' })).tracestate).toBe('congo=t61rcWkgMzE');
    expect('tracestate' in upstreamTraceHeaders(contextFor({ tracestate: 'congo=t61rcWkgMzE' }))).toBe(false);
    expect('tracestate' in upstreamTraceHeaders(contextFor({ traceparent: 'garbage', tracestate: 'congo=t61rcWkgMzE' }))).toBe(false);
    expect('tracestate' in upstreamTraceHeaders(contextFor({ traceparent: TRACEPARENT }))).toBe(false);
  });
});
