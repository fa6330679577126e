import { createServer, get, IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Socket } from 'node:net';
import { GatewayError } from '../errors/gateway-error';
import { RequestEnd } from '../lifecycle/request-end';
import { DeadlineQueue } from './deadline-queue';
import { RequestCancellation } from './request-cancellation';

/** A Node response on a given (unconnected) socket, as the HTTP server builds one, with its RequestEnd. */
function request(timeoutMs = 60_000): { res: ServerResponse; cancellation: RequestCancellation } {
  const res = new ServerResponse(new IncomingMessage(new Socket()));
  return { res, cancellation: new RequestCancellation(res, new RequestEnd(res), new DeadlineQueue(), timeoutMs, undefined) };
}

const codeOf = (reason: unknown): string => (reason instanceof GatewayError ? reason.code : `not a GatewayError: ${String(reason)}`);

describe('RequestCancellation (the signal of a request’s upstream work)', () => {
  it('aborts once, with client_closed, when the request ends before its response finished; each listener runs once, in order', () => {
    const { res, cancellation } = request();
    const { signal } = cancellation;
    const calls: string[] = [];
    signal.addEventListener('abort', () => calls.push(`a:${codeOf(signal.reason)}`));
    signal.addEventListener('abort', () => calls.push(`b:${String(signal.aborted)}`));
    expect(signal.aborted).toBe(false);
    expect(signal.reason).toBeUndefined();
    res.emit('close');
    res.emit('close');
    expect(calls).toEqual(['a:client_closed', 'b:true']);
    expect(codeOf(signal.reason)).toBe('client_closed');
  });

  it('a removed listener does not run, the others still do, and one added after the abort never runs', () => {
    const { res, cancellation } = request();
    const { signal } = cancellation;
    const calls: string[] = [];
    const removed = (): number => calls.push('removed');
    signal.addEventListener('abort', removed);
    signal.addEventListener('abort', () => calls.push('kept'));
    signal.removeEventListener('abort', removed);
    signal.removeEventListener('abort', () => calls.push('never added'));
    res.emit('close');
    signal.addEventListener('abort', () => calls.push('late'));
    expect(calls).toEqual(['kept']);
  });

  it('aborts with a 504 upstream_timeout GatewayError of kind timeout when timeoutMs passes first', async () => {
    const { cancellation } = request(5);
    const { signal } = cancellation;
    const reason = await new Promise<unknown>((resolve) => signal.addEventListener('abort', () => resolve(signal.reason)));
    expect(reason).toBeInstanceOf(GatewayError);
    expect({ code: codeOf(reason), status: (reason as GatewayError).status, message: (reason as GatewayError).message }).toEqual({
      code: 'upstream_timeout',
      status: 504,
      message: 'no response headers from the upstream within 5 ms',
    });
  });

  it('does not abort a request whose response finished before it closed (a real exchange on 127.0.0.1)', async () => {
    const seen = new Promise<{ aborted: boolean; calls: number }>((resolve) => {
      const server = createServer((req, res) => {
        const cancellation = new RequestCancellation(res, new RequestEnd(res), new DeadlineQueue(), 60_000, undefined);
        let calls = 0;
        cancellation.signal.addEventListener('abort', () => calls++);
        res.once('close', () => {
          server.close();
          resolve({ aborted: cancellation.signal.aborted, calls });
        });
        res.end('done');
      });
      server.listen(0, '127.0.0.1', () => {
        const { port } = server.address() as AddressInfo;
        get({ host: '127.0.0.1', port, agent: false }, (response) => response.resume());
      });
    });
    expect(await seen).toEqual({ aborted: false, calls: 0 });
  });
});
