import { once } from 'node:events';
import { IncomingMessage } from 'node:http';
import { Socket } from 'node:net';
import { GatewayError } from '../errors/gateway-error';
import type { RequestContext } from '../trace/request-context';
import { failRequestBody, limitBodyIdleTime, RequestBodyStream } from './request-body';

/** A request as the gateway's server hands it over: on a connection with `idleMs` as its body idle limit (or none). */
function clientRequest(idleMs: number | null): IncomingMessage {
  const socket = new Socket();
  if (idleMs !== null) limitBodyIdleTime(socket, idleMs);
  return new IncomingMessage(socket);
}

/** The first error of `body`, or null if it has none by the time `settled` resolves. */
async function errorOf(body: RequestBodyStream, settled: Promise<unknown>): Promise<GatewayError | null> {
  let error: GatewayError | null = null;
  body.on('error', (e: GatewayError) => (error ??= e));
  await settled;
  return error;
}

const delay = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describe('RequestBodyStream', () => {
  it('fails with 408 request_timeout (Connection: close) when the body stops arriving for the idle limit', async () => {
    const req = clientRequest(50);
    const body = req.pipe(new RequestBodyStream(1024, undefined));
    body.resume();
    req.push(Buffer.from('partial'));
    const [error] = (await once(body, 'error')) as [GatewayError];
    expect(error).toBeInstanceOf(GatewayError);
    expect(error.code).toBe('request_timeout');
    expect(error.headers).toEqual({ connection: 'close' });
  });

  it('restarts the wait on every chunk, so only pauses count; a finished body never fails', async () => {
    const req = clientRequest(200);
    const body = req.pipe(new RequestBodyStream(1024, undefined));
    body.resume();
    const ended = once(body, 'end');
    const error = errorOf(body, ended);
    // Eight chunks 40 ms apart: longer than the limit in all, never that long between two.
    for (let i = 0; i < 8; i++) {
      req.push(Buffer.from('x'));
      await delay(40);
    }
    req.complete = true;
    req.push(null);
    expect(await error).toBeNull();
  });

  it('does not count time the gateway holds the client back (nothing reads the body yet)', async () => {
    const req = clientRequest(50);
    const body = req.pipe(new RequestBodyStream(1024 * 1024, undefined));
    // More than the body stream and the request buffer hold: the pipe stops reading the client.
    req.push(Buffer.alloc(256 * 1024));
    expect(await errorOf(body, delay(250))).toBeNull();
    expect(body.writableNeedDrain || req.readableLength > 0).toBe(true);
    body.destroy();
  });

  it('does nothing on a connection without an idle limit', async () => {
    const req = clientRequest(null);
    const body = req.pipe(new RequestBodyStream(1024, undefined));
    body.resume();
    expect(await errorOf(body, delay(150))).toBeNull();
    body.destroy();
  });

  it('once the request is over with its body unfinished, closes the connection that holds the rest', async () => {
    const req = clientRequest(50);
    const ended = { ended: true };
    const body = req.pipe(new RequestBodyStream(1024, { bytesIn: 0, end: ended } as unknown as RequestContext));
    body.resume();
    req.push(Buffer.from('partial'));
    // The upstream call gave the body up (undici destroys it); the answer has been sent.
    body.destroy();
    await once(req.socket, 'close');
    expect(req.socket.destroyed).toBe(true);
  });

  describe('failRequestBody (a body Node refused part-way, such as a bad chunk)', () => {
    const malformed = (): GatewayError => new GatewayError('bad_request', 'malformed HTTP request: Invalid character in chunk size', { connection: 'close' });

    it('fails the stream reading the body with the error', async () => {
      const req = clientRequest(10_000);
      const body = req.pipe(new RequestBodyStream(1024, undefined));
      const error = malformed();
      failRequestBody(req, error);
      expect((await once(body, 'error'))[0]).toBe(error);
    });

    it('fails the first stream to read the body, when none was reading it yet', async () => {
      const req = clientRequest(10_000);
      const error = malformed();
      failRequestBody(req, error);
      const body = req.pipe(new RequestBodyStream(1024, undefined));
      expect((await once(body, 'error'))[0]).toBe(error);
    });
  });
});
