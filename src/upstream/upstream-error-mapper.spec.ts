import { once } from 'node:events';
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { createServer as createNetServer, type AddressInfo, type Server as NetServer, type Socket } from 'node:net';
import { Agent, errors, request } from 'undici';
import { closedPort } from '../../test/support/upstream-fixture';
import { GatewayError } from '../errors/gateway-error';
import { mapUpstreamError, upstreamErrorKind } from './upstream-error-mapper';

type AnyServer = HttpServer | NetServer;

async function listen<T extends AnyServer>(server: T): Promise<string> {
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

async function close(server: AnyServer): Promise<void> {
  if ('closeAllConnections' in server) server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
}

/** The error a request rejects with; fails the test if it succeeds. */
async function failure(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected the upstream call to fail');
}

describe('mapUpstreamError with real upstream failures', () => {
  let agent: Agent;
  const servers: AnyServer[] = [];
  const sockets = new Set<Socket>();

  beforeEach(() => {
    agent = new Agent({ connect: { timeout: 5_000 } });
  });

  afterEach(async () => {
    await agent.destroy();
    for (const socket of sockets) socket.destroy();
    sockets.clear();
    await Promise.all(servers.splice(0).map(close));
  });

  function track<T extends AnyServer>(server: T): T {
    servers.push(server);
    server.on('connection', (socket: Socket) => {
      sockets.add(socket);
      socket.on('error', () => undefined);
      socket.on('close', () => sockets.delete(socket));
    });
    return server;
  }

  it('maps connection refused to kind "refused", 502 upstream_unreachable', async () => {
    const origin = `http://127.0.0.1:${await closedPort()}`;
    const error = await failure(request(`${origin}/x`, { dispatcher: agent }));
    expect((error as NodeJS.ErrnoException).code).toBe('ECONNREFUSED');

    expect(upstreamErrorKind(error)).toBe('refused');
    const mapped = mapUpstreamError(error, 'users');
    expect(mapped).toBeInstanceOf(GatewayError);
    expect(mapped.code).toBe('upstream_unreachable');
    expect(mapped.status).toBe(502);
    expect(mapped.reason).toBe('Bad Gateway');
    expect(mapped.upstreamKind).toBe('refused');
    expect(mapped.cause).toBe(error);
    expect(mapped.message).toContain('users');
  });

  it('maps a socket the upstream destroys mid-request to kind "reset", 502 upstream_unreachable', async () => {
    const server = track(
      createHttpServer((req) => {
        req.socket.destroy();
      }),
    );
    const origin = await listen(server);
    const error = await failure(request(`${origin}/x`, { dispatcher: agent }));
    expect(error).toBeInstanceOf(errors.SocketError);

    expect(upstreamErrorKind(error)).toBe('reset');
    const mapped = mapUpstreamError(error, 'users');
    expect(mapped.code).toBe('upstream_unreachable');
    expect(mapped.status).toBe(502);
    expect(mapped.upstreamKind).toBe('reset');
    expect(mapped.cause).toBe(error);
  });

  it('maps a reset after the response headers (while the body streams) to kind "reset"', async () => {
    const server = track(
      createHttpServer((_req, res) => {
        res.writeHead(200, { 'content-length': '1000' });
        res.write('partial', () => res.socket?.destroy());
      }),
    );
    const origin = await listen(server);
    const response = await request(`${origin}/x`, { dispatcher: agent });
    expect(response.statusCode).toBe(200);
    const error = await failure(response.body.text());

    expect(upstreamErrorKind(error)).toBe('reset');
    expect(mapUpstreamError(error, 'users')).toMatchObject({ code: 'upstream_unreachable', status: 502, upstreamKind: 'reset' });
  });

  it('maps a response that is not HTTP to kind "invalid", 502 upstream_unreachable', async () => {
    const server = track(
      createNetServer((socket) => {
        socket.once('data', () => socket.end('garbage that is not http\r\n\r\n'));
      }),
    );
    const origin = await listen(server);
    const error = await failure(request(`${origin}/x`, { dispatcher: agent }));
    expect(error).toBeInstanceOf(errors.HTTPParserError);

    expect(upstreamErrorKind(error)).toBe('invalid');
    const mapped = mapUpstreamError(error, 'users');
    expect(mapped.code).toBe('upstream_unreachable');
    expect(mapped.status).toBe(502);
    expect(mapped.upstreamKind).toBe('invalid');
    expect(mapped.cause).toBe(error);
  });

  it('maps a malformed status line to kind "invalid"', async () => {
    const server = track(
      createNetServer((socket) => {
        socket.once('data', () => socket.end('HTTP/1.1 abc Nope\r\ncontent-length: 0\r\n\r\n'));
      }),
    );
    const origin = await listen(server);
    const error = await failure(request(`${origin}/x`, { dispatcher: agent }));

    expect(upstreamErrorKind(error)).toBe('invalid');
    expect(mapUpstreamError(error, 'users')).toMatchObject({ code: 'upstream_unreachable', upstreamKind: 'invalid' });
  });

  it('maps missing response headers within headersTimeout to kind "timeout", 504 upstream_timeout', async () => {
    const server = track(createHttpServer(() => undefined));
    const origin = await listen(server);
    const error = await failure(request(`${origin}/x`, { dispatcher: agent, headersTimeout: 100 }));
    expect(error).toBeInstanceOf(errors.HeadersTimeoutError);

    expect(upstreamErrorKind(error)).toBe('timeout');
    const mapped = mapUpstreamError(error, 'users');
    expect(mapped.code).toBe('upstream_timeout');
    expect(mapped.status).toBe(504);
    expect(mapped.upstreamKind).toBe('timeout');
    expect(mapped.cause).toBe(error);
  });

  it('passes through the GatewayError a request was aborted with', async () => {
    const server = track(createHttpServer(() => undefined));
    const origin = await listen(server);
    const controller = new AbortController();
    const reason = new GatewayError('client_closed', 'client went away');
    const pending = failure(request(`${origin}/x`, { dispatcher: agent, signal: controller.signal }));
    await once(server, 'request');
    controller.abort(reason);
    const error = await pending;

    expect(mapUpstreamError(error, 'users')).toBe(reason);
  });
});

describe('mapUpstreamError', () => {
  it('returns a GatewayError unchanged', () => {
    const original = new GatewayError('body_too_large', 'too big', { 'x-a': '1' });
    expect(mapUpstreamError(original, 'users')).toBe(original);
  });

  it('returns a GatewayError that is the cause of the failure', () => {
    const original = new GatewayError('client_closed', 'gone');
    const wrapper = new Error('aborted', { cause: original });
    expect(mapUpstreamError(wrapper, 'users')).toBe(original);
  });

  it.each([
    ['ECONNREFUSED', 'refused'],
    ['ENOTFOUND', 'refused'],
    ['EAI_AGAIN', 'refused'],
    ['EHOSTUNREACH', 'refused'],
    ['ENETUNREACH', 'refused'],
    ['ECONNRESET', 'reset'],
    ['EPIPE', 'reset'],
    ['ECONNABORTED', 'reset'],
  ])('classifies a system error with code %s as %s', (code, kind) => {
    const error = Object.assign(new Error('system error'), { code });
    expect(upstreamErrorKind(error)).toBe(kind);
    expect(mapUpstreamError(error, 'users')).toMatchObject({ code: 'upstream_unreachable', status: 502, upstreamKind: kind });
  });

  it('classifies by type and code, never by message text', () => {
    expect(upstreamErrorKind(new Error('connect ECONNREFUSED 127.0.0.1:1'))).toBe('invalid');
    expect(upstreamErrorKind(new Error('read ECONNRESET'))).toBe('invalid');
    expect(upstreamErrorKind(new Error('Headers Timeout Error'))).toBe('invalid');
  });

  // Each undici timeout is of kind "timeout"; only a headers timeout is the upstream's 504. A
  // connect timeout never reached the upstream and a body timeout came after the response had
  // started, so both are 502 upstream_unreachable.
  it.each<[string, number, string, () => Error]>([
    ['ConnectTimeoutError', 502, 'upstream_unreachable', () => new errors.ConnectTimeoutError()],
    ['HeadersTimeoutError', 504, 'upstream_timeout', () => new errors.HeadersTimeoutError()],
    ['BodyTimeoutError', 502, 'upstream_unreachable', () => new errors.BodyTimeoutError()],
  ])('classifies undici\'s %s as kind "timeout", mapped to %i %s', (_name, status, code, make) => {
    const error = make();
    expect(upstreamErrorKind(error)).toBe('timeout');
    expect(mapUpstreamError(error, 'u')).toMatchObject({ code, status, upstreamKind: 'timeout', cause: error });
  });

  it('maps values that are not errors to an invalid upstream response', () => {
    for (const value of [null, undefined, 'boom', 42]) {
      expect(mapUpstreamError(value, 'users')).toMatchObject({ code: 'upstream_unreachable', status: 502, upstreamKind: 'invalid' });
    }
  });
});
