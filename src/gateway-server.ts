import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { rawErrorResponse, writeErrorResponse } from './errors/error-response';
import { GatewayError } from './errors/gateway-error';

type RequestHandler = (req: IncomingMessage, res: ServerResponse) => void;

const NOT_A_FORWARD_PROXY = 'this gateway is not a forward proxy: use an origin-form target such as /path';

/**
 * The Node server under Fastify. Requests that must never reach routing are refused here
 * (CONTRACT §4): absolute-form and asterisk-form targets, and CONNECT, which Node hands to a
 * separate event. Malformed requests get the same JSON 400.
 */
export function createGatewayServer(handler: RequestHandler): Server {
  const server = createServer((req, res) => {
    if (req.url === undefined || req.url.charCodeAt(0) !== 47 /* "/" */) {
      writeErrorResponse(res, new GatewayError('bad_request', NOT_A_FORWARD_PROXY), null, null, { connection: 'close' });
      return;
    }
    handler(req, res);
  });
  server.on('connect', (_req: IncomingMessage, socket: Duplex) => {
    socket.end(rawErrorResponse(new GatewayError('bad_request', `CONNECT refused: ${NOT_A_FORWARD_PROXY}`)));
  });
  // Long uploads and downloads stream for as long as they need; slow headers are still cut off.
  server.requestTimeout = 0;
  return server;
}

/** Fastify's clientErrorHandler: a parse error on the socket gets the contract's JSON 400. */
export function handleClientError(error: NodeJS.ErrnoException, socket: Duplex): void {
  if (error.code === 'ECONNRESET' || !socket.writable) {
    socket.destroy();
    return;
  }
  socket.end(rawErrorResponse(new GatewayError('bad_request', 'malformed HTTP request')));
}
