import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { rawErrorResponse, writeErrorResponse } from './errors/error-response';
import { GatewayError } from './errors/gateway-error';
import { bodyTooLarge } from './proxy/request-body';

type RequestHandler = (req: IncomingMessage, res: ServerResponse) => void;

const NOT_A_FORWARD_PROXY = 'this gateway is not a forward proxy: use an origin-form target such as /path';

/**
 * The Node server under Fastify. Requests that must never reach routing are refused here
 * (CONTRACT §4): absolute-form and asterisk-form targets, and CONNECT, which Node hands to a
 * separate event. Malformed requests get the same JSON 400.
 */
export function createGatewayServer(handler: RequestHandler, bodyLimitBytes: number): Server {
  // Host rules are checked here rather than by Node, so the answer is the contract's JSON.
  const server = createServer({ requireHostHeader: false }, (req, res) => {
    const problem = requestTargetProblem(req);
    if (problem !== null) {
      writeErrorResponse(res, new GatewayError('bad_request', problem), null, null, { connection: 'close' });
      return;
    }
    handler(req, res);
  });
  // `Expect: 100-continue`: refuse a declared oversized body before the client sends it.
  server.on('checkContinue', (req: IncomingMessage, res: ServerResponse) => {
    if (Number(req.headers['content-length']) > bodyLimitBytes) {
      writeErrorResponse(res, bodyTooLarge(bodyLimitBytes));
      return;
    }
    res.writeContinue();
    server.emit('request', req, res);
  });
  server.on('connect', (_req: IncomingMessage, socket: Duplex) => {
    socket.end(rawErrorResponse(new GatewayError('bad_request', `CONNECT refused: ${NOT_A_FORWARD_PROXY}`)));
  });
  // Long uploads and downloads stream for as long as they need; slow headers are still cut off.
  server.requestTimeout = 0;
  return server;
}

function requestTargetProblem(req: IncomingMessage): string | null {
  if (req.url === undefined || req.url.charCodeAt(0) !== 47 /* "/" */) return NOT_A_FORWARD_PROXY;
  let hosts = 0;
  const raw = req.rawHeaders;
  for (let i = 0; i < raw.length; i += 2) {
    if (raw[i].length === 4 && raw[i].toLowerCase() === 'host') hosts++;
  }
  // RFC 9112 §3.2: exactly one Host in HTTP/1.1; two would let routing and the upstream disagree.
  if (hosts > 1) return 'more than one Host header';
  if (hosts === 0 && req.httpVersionMinor >= 1 && req.httpVersionMajor === 1) return 'HTTP/1.1 requests need a Host header';
  return null;
}

/** Fastify's clientErrorHandler: a parse error on the socket gets the contract's JSON 400. */
/** Fastify's frameworkErrors hook: errors Fastify raises before routing (e.g. a bad %-escape) get the contract's JSON 400. */
export function handleFrameworkError(error: Error, _request: unknown, reply: { raw: ServerResponse }): void {
  writeErrorResponse(reply.raw, new GatewayError('bad_request', error.message));
}

export function handleClientError(error: NodeJS.ErrnoException, socket: Duplex): void {
  if (error.code === 'ECONNRESET' || !socket.writable) {
    socket.destroy();
    return;
  }
  socket.end(rawErrorResponse(new GatewayError('bad_request', 'malformed HTTP request')));
}
