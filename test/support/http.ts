import { connect } from 'node:net';
import { request as undiciRequest, type Dispatcher } from 'undici';

export interface TestResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  json<T = Record<string, unknown>>(): T;
}

/** An HTTP response read whole: what the error assertions need of it. */
export interface ParsedResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
}

export interface TestRequestOptions {
  method?: Dispatcher.HttpMethod;
  headers?: Record<string, string>;
  body?: string | Buffer;
}

/** A plain HTTP call with the whole response body read (for small responses). */
export async function call(url: string, options: TestRequestOptions = {}): Promise<TestResponse> {
  const res = await undiciRequest(url, { method: options.method ?? 'GET', headers: options.headers, body: options.body });
  const text = await res.body.text();
  return {
    status: res.statusCode,
    headers: res.headers,
    text,
    json: <T>() => JSON.parse(text) as T,
  };
}

/** Writes raw bytes to the gateway and resolves with everything it answers until the socket closes or `idleMs` passes. */
export function rawExchange(port: number, payload: string, idleMs = 500): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let received = '';
    socket.setEncoding('utf8');
    socket.setTimeout(idleMs, () => socket.end());
    socket.on('data', (chunk: string) => (received += chunk));
    socket.on('error', reject);
    socket.on('close', () => resolve(received));
    socket.write(payload);
  });
}

/** Parses one HTTP/1.1 response with a Content-Length (what the gateway writes for its own errors). */
export function parseRawResponse(raw: string): ParsedResponse {
  const headEnd = raw.indexOf('\r\n\r\n');
  if (headEnd === -1) throw new Error(`no complete HTTP response in ${JSON.stringify(raw)}`);
  const [statusLine, ...lines] = raw.slice(0, headEnd).split('\r\n');
  const match = /^HTTP\/1\.[01] (\d{3})/.exec(statusLine);
  if (!match) throw new Error(`not an HTTP status line: ${JSON.stringify(statusLine)}`);
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const colon = line.indexOf(':');
    headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  let text = raw.slice(headEnd + 4);
  if (headers['content-length'] !== undefined) text = text.slice(0, Number(headers['content-length']));
  return { status: Number(match[1]), headers, text };
}
