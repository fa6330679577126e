import type { IncomingMessage } from 'node:http';
import { GatewayError } from '../errors/gateway-error';
import { bodyTooLarge } from './request-body';

/** More header lines than this get 431 headers_too_large (Envoy's `max_headers_count` default). */
export const MAX_HEADER_LINES = 100;

export const NOT_A_FORWARD_PROXY = 'this gateway is not a forward proxy: use an origin-form target such as /path';

/** What the refusal rules read of a parsed request. */
export type RequestHead = Pick<IncomingMessage, 'url' | 'rawHeaders' | 'httpVersionMajor' | 'httpVersionMinor' | 'headers'>;

/** A %-escaped control character (%00-%1F, %7F). */
const ESCAPED_CONTROL = /%(?:[01][0-9A-Fa-f]|7[Ff])/;

/**
 * Why a request Node parsed must be refused before anything else sees it, or null (docs/routing.md "Proxying
 * and headers", "Hostile input"). Node's parser (llhttp) already refuses most malformed heads;
 * these are the ones it lets through, or lets through only in some versions or in its lenient
 * mode (`--insecure-http-parser`), checked here so the answer does not depend on either:
 * targets that are not origin-form, versions other than HTTP/1.0 and 1.1, too many header
 * lines, Host rules, every ambiguous body framing (the request-smuggling shapes), escaped control
 * characters in the path, and a declared body over the limit with `Expect: 100-continue`.
 */
export function requestHeadRefusal(head: RequestHead, expectsContinue: boolean, bodyLimitBytes: number): GatewayError | null {
  const url = head.url;
  if (url === undefined || url.charCodeAt(0) !== 47 /* "/" */) return new GatewayError('bad_request', NOT_A_FORWARD_PROXY);
  const major = head.httpVersionMajor;
  const minor = head.httpVersionMinor;
  // Node also parses HTTP/0.9 and e.g. "HTTP/2.0" request lines; neither is HTTP/1 framing.
  if (major !== 1 || minor > 1) return new GatewayError('bad_request', `HTTP/${major}.${minor} is not supported: send HTTP/1.1`);
  const raw = head.rawHeaders;
  // Node keeps at most a little over the server's maxHeadersCount (MAX_HEADER_LINES + 1), so more shows here.
  if (raw.length > MAX_HEADER_LINES * 2) return new GatewayError('headers_too_large', `more than ${MAX_HEADER_LINES} header lines`);
  let hosts = 0;
  let lengths = 0;
  let encodings = 0;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i];
    // Only names of the right length are lower-cased: most headers cost one comparison.
    if (name.length === 4) {
      if (name.toLowerCase() === 'host') hosts++;
    } else if (name.length === 14) {
      if (name.toLowerCase() === 'content-length') lengths++;
    } else if (name.length === 17) {
      if (name.toLowerCase() === 'transfer-encoding') encodings++;
    }
  }
  // RFC 9112, section 3.2: exactly one Host in HTTP/1.1; two would let routing and the upstream disagree.
  if (hosts > 1) return new GatewayError('bad_request', 'more than one Host header');
  if (hosts === 0 && minor === 1) return new GatewayError('bad_request', 'HTTP/1.1 requests need a Host header');
  const framing = framingProblem(head, lengths, encodings);
  if (framing !== null) return new GatewayError('bad_request', framing);
  if (url.includes('%') && ESCAPED_CONTROL.test(pathOf(url))) {
    return new GatewayError('bad_request', 'an escaped control character (%00-%1F, %7F) in the path');
  }
  // `Expect: 100-continue`: a declared oversized body is refused before the client sends it.
  if (expectsContinue && Number(head.headers['content-length']) > bodyLimitBytes) return bodyTooLarge(bodyLimitBytes);
  return null;
}

/**
 * RFC 9112, section 6: a body's length must be unambiguous, or the gateway and the upstream (or a proxy in
 * front) could split the bytes into different requests. The gateway re-frames every body it sends
 * upstream, so what must never pass is a request whose own framing is in doubt.
 */
function framingProblem(head: RequestHead, lengths: number, encodings: number): string | null {
  if (encodings === 0) return lengths > 1 ? 'more than one Content-Length header' : null;
  if (lengths > 0) return 'both Transfer-Encoding and Content-Length (request smuggling)';
  // RFC 9112, section 6.1: an HTTP/1.0 message with Transfer-Encoding must be treated as having faulty framing.
  if (head.httpVersionMinor === 0) return 'Transfer-Encoding in an HTTP/1.0 request';
  const value = head.headers['transfer-encoding'];
  // Node accepts `gzip, chunked` (and the same on two lines): the gateway forwards no transfer coding but chunked.
  if (encodings > 1 || typeof value !== 'string' || value.trim().toLowerCase() !== 'chunked') {
    return 'Transfer-Encoding must be exactly "chunked"';
  }
  return null;
}

function pathOf(url: string): string {
  const query = url.indexOf('?');
  return query === -1 ? url : url.slice(0, query);
}
