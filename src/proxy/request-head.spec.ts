import type { GatewayError } from '../errors/gateway-error';
import { MAX_HEADER_LINES, requestHeadRefusal, type RequestHead } from './request-head';

/** A parsed request head as Node hands it over: `lines` are the raw header lines, in order. */
function head(lines: Array<[string, string]>, options: { url?: string; version?: string } = {}): RequestHead {
  const [major, minor] = (options.version ?? '1.1').split('.').map(Number);
  const headers: Record<string, string> = {};
  for (const [name, value] of lines) {
    const key = name.toLowerCase();
    headers[key] = key in headers ? `${headers[key]}, ${value}` : value;
  }
  return { url: options.url ?? '/api', rawHeaders: lines.flat(), httpVersionMajor: major, httpVersionMinor: minor, headers };
}

function refusal(lines: Array<[string, string]>, options: { url?: string; version?: string } = {}): Pick<GatewayError, 'code' | 'message'> | null {
  const error = requestHeadRefusal(head(lines, options), false, 1024);
  return error === null ? null : { code: error.code, message: error.message };
}

const HOST: [string, string] = ['Host', 'api.example.com'];

describe('requestHeadRefusal', () => {
  it('lets an ordinary request through', () => {
    expect(refusal([HOST, ['Accept', '*/*']])).toBeNull();
    expect(refusal([HOST, ['Content-Length', '5']])).toBeNull();
    expect(refusal([HOST, ['Transfer-Encoding', 'chunked']])).toBeNull();
    // Transfer codings are case-insensitive, and Node trims the value's whitespace.
    expect(refusal([HOST, ['transfer-encoding', 'Chunked']])).toBeNull();
    expect(refusal([], { version: '1.0' })).toBeNull();
  });

  it.each([
    ['absolute-form', { url: 'http://other/' }],
    ['asterisk-form', { url: '*' }],
    ['authority-form', { url: 'other:443' }],
  ])('refuses a %s target: not a forward proxy', (_name, options) => {
    expect(refusal([HOST], options)).toEqual({ code: 'bad_request', message: expect.stringContaining('not a forward proxy') });
  });

  it.each(['0.9', '2.0', '1.2'])('refuses HTTP/%s, which Node parses but which is not HTTP/1 framing', (version) => {
    expect(refusal([HOST], { version })).toEqual({ code: 'bad_request', message: `HTTP/${version} is not supported: send HTTP/1.1` });
  });

  it(`accepts ${MAX_HEADER_LINES} header lines and refuses one more with 431`, () => {
    const lines = (count: number): Array<[string, string]> => [HOST, ...Array.from({ length: count - 1 }, (_, i): [string, string] => [`X-${i}`, '1'])];
    expect(refusal(lines(MAX_HEADER_LINES))).toBeNull();
    expect(refusal(lines(MAX_HEADER_LINES + 1))).toEqual({ code: 'headers_too_large', message: `more than ${MAX_HEADER_LINES} header lines` });
  });

  it('keeps the Host rules: exactly one in HTTP/1.1, at most one in HTTP/1.0', () => {
    expect(refusal([])).toEqual({ code: 'bad_request', message: 'HTTP/1.1 requests need a Host header' });
    expect(refusal([HOST, ['host', 'b.example.com']])).toEqual({ code: 'bad_request', message: 'more than one Host header' });
    expect(refusal([HOST, HOST], { version: '1.0' })).toEqual({ code: 'bad_request', message: 'more than one Host header' });
  });

  // Node's parser refuses some of these itself (and all of them in no lenient mode); the gateway
  // refuses them whatever the parser let through.
  it.each([
    ['two Content-Length headers, same value', [HOST, ['Content-Length', '5'], ['content-length', '5']], {}, 'more than one Content-Length header'],
    ['Transfer-Encoding and Content-Length', [HOST, ['Transfer-Encoding', 'chunked'], ['Content-Length', '5']], {}, 'both Transfer-Encoding and Content-Length (request smuggling)'],
    ['Content-Length and Transfer-Encoding', [HOST, ['Content-Length', '5'], ['Transfer-Encoding', 'chunked']], {}, 'both Transfer-Encoding and Content-Length (request smuggling)'],
    ['Transfer-Encoding in HTTP/1.0', [HOST, ['Transfer-Encoding', 'chunked']], { version: '1.0' }, 'Transfer-Encoding in an HTTP/1.0 request'],
    ['gzip, chunked', [HOST, ['Transfer-Encoding', 'gzip, chunked']], {}, 'Transfer-Encoding must be exactly "chunked"'],
    ['gzip and chunked on two lines', [HOST, ['Transfer-Encoding', 'gzip'], ['Transfer-Encoding', 'chunked']], {}, 'Transfer-Encoding must be exactly "chunked"'],
    ['chunked twice', [HOST, ['Transfer-Encoding', 'chunked'], ['Transfer-Encoding', 'chunked']], {}, 'Transfer-Encoding must be exactly "chunked"'],
    ['identity', [HOST, ['Transfer-Encoding', 'identity']], {}, 'Transfer-Encoding must be exactly "chunked"'],
  ] as Array<[string, Array<[string, string]>, { version?: string }, string]>)('refuses ambiguous framing: %s', (_name, lines, options, message) => {
    expect(refusal(lines, options)).toEqual({ code: 'bad_request', message });
  });

  it.each(['/a%00b', '/a%0d%0ab', '/a%0A', '/a%1f', '/a%7F', '/%09'])('refuses the escaped control character in %s', (url) => {
    expect(refusal([HOST], { url })).toEqual({ code: 'bad_request', message: 'an escaped control character (%00-%1F, %7F) in the path' });
  });

  it.each(['/a%20b', '/a%2Fb', '/a%7e', '/a%e2%82%ac', '/a?q=%00', '/a?%0d%0a'])('leaves %s to routing (not a control character, or in the query)', (url) => {
    expect(refusal([HOST], { url })).toBeNull();
  });

  it('refuses a declared body over the limit with Expect: 100-continue only', () => {
    const big = head([HOST, ['Content-Length', '1025']]);
    expect(requestHeadRefusal(big, true, 1024)?.code).toBe('body_too_large');
    expect(requestHeadRefusal(big, false, 1024)).toBeNull();
    expect(requestHeadRefusal(head([HOST, ['Content-Length', '1024']]), true, 1024)).toBeNull();
  });
});
