import { clientErrorOf, headersCheckInterval } from './gateway-server';

function nodeError(code: string, reason?: string): NodeJS.ErrnoException & { reason?: string } {
  return Object.assign(new Error(`Parse Error: ${reason ?? code}`), { code, reason });
}

describe('clientErrorOf', () => {
  it('answers a head over maxHeaderBytes with 431 headers_too_large', () => {
    expect(clientErrorOf(nodeError('HPE_HEADER_OVERFLOW', 'Header overflow'))).toMatchObject({ status: 431, code: 'headers_too_large' });
  });

  it('answers a head slower than headersTimeoutMs with 408 request_timeout', () => {
    expect(clientErrorOf(nodeError('ERR_HTTP_REQUEST_TIMEOUT'))).toMatchObject({ status: 408, code: 'request_timeout' });
  });

  it.each([
    ['HPE_INVALID_METHOD', 'Invalid method encountered'],
    ['HPE_UNEXPECTED_CONTENT_LENGTH', 'Duplicate Content-Length'],
    ['HPE_INVALID_TRANSFER_ENCODING', 'Transfer-Encoding can\'t be present with Content-Length'],
    ['HPE_INVALID_CHUNK_SIZE', 'Invalid character in chunk size'],
    ['HPE_INVALID_URL', 'Invalid char in url path'],
  ])('answers %s with 400 bad_request, naming the parser\'s reason', (code, reason) => {
    expect(clientErrorOf(nodeError(code, reason))).toMatchObject({ status: 400, code: 'bad_request', message: `malformed HTTP request: ${reason}` });
  });

  it('says only "malformed HTTP request" when Node gives no reason', () => {
    expect(clientErrorOf(nodeError('HPE_SOMETHING_NEW'))).toMatchObject({ status: 400, message: 'malformed HTTP request' });
  });
});

describe('headersCheckInterval', () => {
  it('checks often enough that a slow head is answered within about headersTimeoutMs + 1 s', () => {
    expect(headersCheckInterval(10_000)).toBe(1000);
    expect(headersCheckInterval(2000)).toBe(1000);
    expect(headersCheckInterval(500)).toBe(250);
    expect(headersCheckInterval(100)).toBe(50);
  });
});
