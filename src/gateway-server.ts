import { ClsServiceManager } from 'nestjs-cls';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { rawErrorResponse, writeErrorResponse } from './errors/error-response';
import { GatewayError } from './errors/gateway-error';
import { RequestEnd } from './lifecycle/request-end';
import type { TrafficGate } from './lifecycle/traffic-gate';
import { bodyTooLarge } from './proxy/request-body';
import type { RequestObserver } from './telemetry/request-observer';
import { newTraceId } from './trace/random-ids';
import type { RequestContext } from './trace/request-context';
import { createRequestContext } from './trace/request-context.factory';

type RequestHandler = (req: IncomingMessage, res: ServerResponse) => void;

export interface GatewayServerOptions {
  readonly bodyLimitBytes: number;
  readonly observer: RequestObserver;
  readonly gate: TrafficGate;
  /** Management requests are still served while draining (readiness must be able to say 503). */
  readonly managementPrefix: string;
}

const NOT_A_FORWARD_PROXY = 'this gateway is not a forward proxy: use an origin-form target such as /path';

/**
 * The Node server under Fastify, and the first step of every request: its trace context is
 * created and entered here (CLS), its X-Request-Id set on the response and its outcome tracked,
 * before Fastify or Nest see it, so even requests refused at this level carry ids. Requests
 * that must never reach routing are refused here (README "Proxying and headers"): absolute-form and asterisk-form
 * targets, missing or duplicate Host, and CONNECT, which Node hands to a separate event.
 */
export function createGatewayServer(handler: RequestHandler, options: GatewayServerOptions): Server {
  const cls = ClsServiceManager.getClsService<RequestContext>();
  const gate = options.gate;
  const serve = (req: IncomingMessage, res: ServerResponse, expectsContinue: boolean): void => {
    const context = createRequestContext(req);
    const end = (context.end = new RequestEnd(res));
    res.setHeader('x-request-id', context.requestId);
    options.observer.track(req, res, context, end);
    cls.runWith(context, () => {
      const refusal = refusalOf(req, expectsContinue, options.bodyLimitBytes) ?? drainRefusal(req, options);
      if (refusal !== null) {
        context.code = refusal.code;
        writeErrorResponse(res, refusal, null, context.traceId, { connection: 'close' });
        return;
      }
      if (expectsContinue) res.writeContinue();
      gate.admitted();
      end.onEnd(gate.finished);
      handler(req, res);
    });
  };
  // Host rules are checked here rather than by Node, so the answer is the contract's JSON.
  const server = createServer({ requireHostHeader: false }, (req, res) => serve(req, res, false));
  server.on('checkContinue', (req: IncomingMessage, res: ServerResponse) => serve(req, res, true));
  server.on('connect', (req: IncomingMessage, socket: Duplex) => {
    const context = createRequestContext(req);
    const error = new GatewayError('bad_request', `CONNECT refused: ${NOT_A_FORWARD_PROXY}`);
    context.code = error.code;
    const response = rawErrorResponse(error, context.traceId, context.requestId);
    socket.end(response);
    options.observer.recordWithoutResponse(req, context, error.status, Buffer.byteLength(response));
  });
  // Long uploads and downloads stream for as long as they need; slow headers are still cut off.
  server.requestTimeout = 0;
  return server;
}

function drainRefusal(req: IncomingMessage, options: GatewayServerOptions): GatewayError | null {
  if (!options.gate.draining) return null;
  const url = req.url!;
  const prefix = options.managementPrefix;
  if (url.startsWith(prefix) && (url.length === prefix.length || '/?'.includes(url[prefix.length]))) return null;
  return new GatewayError('shutting_down', 'the gateway is shutting down; retry on another instance', { 'retry-after': '1' });
}

function refusalOf(req: IncomingMessage, expectsContinue: boolean, bodyLimitBytes: number): GatewayError | null {
  if (req.url === undefined || req.url.charCodeAt(0) !== 47 /* "/" */) return new GatewayError('bad_request', NOT_A_FORWARD_PROXY);
  let hosts = 0;
  const raw = req.rawHeaders;
  for (let i = 0; i < raw.length; i += 2) {
    if (raw[i].length === 4 && raw[i].toLowerCase() === 'host') hosts++;
  }
  // RFC 9112 §3.2: exactly one Host in HTTP/1.1; two would let routing and the upstream disagree.
  if (hosts > 1) return new GatewayError('bad_request', 'more than one Host header');
  if (hosts === 0 && req.httpVersionMajor === 1 && req.httpVersionMinor >= 1) {
    return new GatewayError('bad_request', 'HTTP/1.1 requests need a Host header');
  }
  // `Expect: 100-continue`: a declared oversized body is refused before the client sends it.
  if (expectsContinue && Number(req.headers['content-length']) > bodyLimitBytes) return bodyTooLarge(bodyLimitBytes);
  return null;
}

/** Fastify's frameworkErrors hook: errors Fastify raises before routing (e.g. a bad %-escape) get the contract's JSON 400. */
export function handleFrameworkError(error: Error, _request: unknown, reply: { raw: ServerResponse }): void {
  const context = ClsServiceManager.getClsService<RequestContext>().get();
  if (context) context.code = 'bad_request';
  writeErrorResponse(reply.raw, new GatewayError('bad_request', error.message), null, context?.traceId ?? null);
}

/**
 * Fastify's clientErrorHandler: a parse error on the socket gets the contract's JSON 400, unless
 * a response is under way on that connection (a malformed pipelined request, a bad chunk in an
 * upload answered early): bytes written now would land inside that response, so the connection
 * is cut instead.
 */
export function handleClientError(error: NodeJS.ErrnoException, socket: Duplex): void {
  if (error.code === 'ECONNRESET' || !socket.writable || responseUnderWay(socket)) {
    socket.destroy();
    return;
  }
  const traceId = newTraceId();
  socket.end(rawErrorResponse(new GatewayError('bad_request', 'malformed HTTP request'), traceId, traceId));
}

/** Node keeps the response being written on a connection as `_httpMessage` until it finishes. */
function responseUnderWay(socket: Duplex): boolean {
  return (socket as Duplex & { _httpMessage?: ServerResponse | null })._httpMessage != null;
}
