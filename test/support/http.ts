import { connect } from 'node:net';
import { request as undiciRequest, type Dispatcher } from 'undici';

export interface TestResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  json<T = Record<string, unknown>>(): T;
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
