import { ClsServiceManager } from 'nestjs-cls';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { rawErrorResponse, writeErrorResponse } from './errors/error-response';
import { GatewayError } from './errors/gateway-error';
import { RequestEnd } from './lifecycle/request-end';
import type { TrafficGate } from './lifecycle/traffic-gate';
import { failRequestBody, limitBodyIdleTime } from './proxy/request-body';
import { MAX_HEADER_LINES, NOT_A_FORWARD_PROXY, requestHeadRefusal } from './proxy/request-head';
import type { RequestObserver } from './telemetry/request-observer';
import { newTraceId } from './trace/random-ids';
import type { RequestContext } from './trace/request-context';
import { createRequestContext } from './trace/request-context.factory';

type RequestHandler = (req: IncomingMessage, res: ServerResponse) => void;

/**
 * Where proxied requests go: the proxy pipeline (ProxyPipeline), which Nest builds after this
 * server exists, so bootstrap.ts puts it in `current` once the app is created. Until then every
 * request goes to Fastify.
 */
export interface ProxyEntrance {
  current: { handle: RequestHandler } | null;
}

export interface GatewayServerOptions {
  readonly bodyLimitBytes: number;
  readonly observer: RequestObserver;
  readonly gate: TrafficGate;
  /** Management requests are still served while draining (readiness must be able to say 503). */
  readonly managementPrefix: string;
  /** The whole request head must arrive within this (408 request_timeout). */
  readonly headersTimeoutMs: number;
  /** Node's `maxHeaderSize`: a larger request head gets 431 headers_too_large. */
  readonly maxHeaderBytes: number;
  /** Longest pause while a request body is read (408 request_timeout, or the connection cut). */
  readonly bodyIdleTimeoutMs: number;
  /** Every request outside the management prefix goes here rather than to Fastify. */
  readonly proxy: ProxyEntrance;
}

/**
 * How long a connection answered at the socket level (a request Node could not parse, a slow
 * head, CONNECT) stays open for the client to read the answer and close; then it is destroyed.
 */
export const CLOSE_LINGER_MS = 2_000;

/**
 * Connections the gateway is closing (a request refused with `Connection: close`, an answer
 * written at the socket level, a request whose body Node refused): nothing more that arrives on
 * them is served or answered, and later parse errors on them are the same bytes' fault.
 */
const closing = new WeakSet<object>();

/**
 * The Node server under Fastify, and the first step of every request: its trace context is
 * created and entered here (CLS), its X-Request-Id set on the response and its outcome tracked,
 * before Fastify or Nest see it, so even requests refused at this level carry ids. Management
 * endpoints then go to Fastify, every other request to the proxy pipeline (ProxyEntrance). Requests
 * that must never reach routing are refused here (docs/routing.md "Proxying and headers", "Hostile input"):
 * absolute-form and asterisk-form targets, missing or duplicate Host, ambiguous body framing and
 * the rest of requestHeadRefusal, and CONNECT, which Node hands to a separate event. The server
 * also bounds the request head (size, line count, time to arrive) and, through
 * RequestBodyStream, the pauses of a request body.
 */
export function createGatewayServer(handler: RequestHandler, options: GatewayServerOptions): Server {
  const cls = ClsServiceManager.getClsService<RequestContext>();
  const gate = options.gate;
  const serve = (req: IncomingMessage, res: ServerResponse, expectsContinue: boolean): void => {
    // Pipelined behind a refused request (or completed after a 408): where a refused request ends
    // (its framing may be the reason it was refused) is not to be trusted, so neither is what
    // follows. The connection closes once the refusal is written.
    if (closing.has(req.socket)) return;
    const context = createRequestContext(req);
    const end = (context.end = new RequestEnd(res));
    options.observer.track(req, res, context, end);
    cls.runWith(context, () => {
      const refusal = requestHeadRefusal(req, expectsContinue, options.bodyLimitBytes) ?? drainRefusal(req, options);
      if (refusal !== null) {
        context.code = refusal.code;
        closing.add(req.socket);
        writeErrorResponse(res, refusal, context, null, { connection: 'close' });
        return;
      }
      if (expectsContinue) res.writeContinue();
      gate.admitted();
      end.onEnd(gate.finished);
      const proxy = options.proxy.current;
      if (proxy !== null && !isManagementPath(req.url!, options.managementPrefix)) {
        proxy.handle(req, res);
        return;
      }
      // Fastify writes the management endpoints' responses; the proxy's writers add the id themselves (gateway-response-headers.ts).
      res.setHeader('x-request-id', context.requestId);
      handler(req, res);
    });
  };
  // Host rules are checked here rather than by Node, so the answer is the JSON error of docs/errors.md. Long
  // uploads and downloads stream for as long as they need (no requestTimeout); a slow head is cut
  // off after headersTimeout, which Node checks every connectionsCheckingInterval.
  const server = createServer(
    {
      requireHostHeader: false,
      maxHeaderSize: options.maxHeaderBytes,
      headersTimeout: options.headersTimeoutMs,
      requestTimeout: 0,
      connectionsCheckingInterval: headersCheckInterval(options.headersTimeoutMs),
    },
    (req, res) => serve(req, res, false),
  );
  // Beyond this Node 20 drops header lines silently and Node 24 fails the parse; one more than the
  // gateway's limit is enough to tell that the limit was passed.
  server.maxHeadersCount = MAX_HEADER_LINES + 1;
  server.on('connection', (socket: Socket) => limitBodyIdleTime(socket, options.bodyIdleTimeoutMs));
  server.on('checkContinue', (req: IncomingMessage, res: ServerResponse) => serve(req, res, true));
  server.on('connect', (req: IncomingMessage, socket: Duplex) => {
    const context = createRequestContext(req);
    const error = new GatewayError('bad_request', `CONNECT refused: ${NOT_A_FORWARD_PROXY}`);
    context.code = error.code;
    const response = rawErrorResponse(error, context.traceId, context.requestId);
    answerAndClose(socket, response);
    options.observer.recordWithoutResponse(req, context, error.status, Buffer.byteLength(response));
  });
  return server;
}

/** Node checks headersTimeout on this interval (30 s by default), so a slow head is answered within about headersTimeoutMs + 1 s. */
export function headersCheckInterval(headersTimeoutMs: number): number {
  return Math.max(1, Math.min(1000, Math.floor(headersTimeoutMs / 2)));
}

/** The management endpoints (Nest controllers on Fastify): the prefix itself, or a path below it. */
function isManagementPath(url: string, prefix: string): boolean {
  return url.startsWith(prefix) && (url.length === prefix.length || url[prefix.length] === '/' || url[prefix.length] === '?');
}

function drainRefusal(req: IncomingMessage, options: GatewayServerOptions): GatewayError | null {
  if (!options.gate.draining || isManagementPath(req.url!, options.managementPrefix)) return null;
  return new GatewayError('shutting_down', 'the gateway is shutting down; retry on another instance', { 'retry-after': '1' });
}

/** Fastify's frameworkErrors hook: errors Fastify raises before routing (e.g. a bad %-escape) get the JSON error of docs/errors.md 400. */
export function handleFrameworkError(error: Error, _request: unknown, reply: { raw: ServerResponse }): void {
  const context = ClsServiceManager.getClsService<RequestContext>().get();
  if (context) context.code = 'bad_request';
  writeErrorResponse(reply.raw, new GatewayError('bad_request', error.message), context);
}

/**
 * Fastify's clientErrorHandler: what Node's parser refuses gets the JSON error of docs/errors.md (a head over
 * maxHeaderBytes 431, a head slower than headersTimeoutMs 408, anything else 400) with
 * `Connection: close`. A request being handled whose own body turns out malformed (a bad chunk)
 * is answered by its pipeline: its body fails with the 400, which abandons its upstream call.
 * Once a response is under way on the connection (a malformed pipelined request, a bad chunk in
 * an upload answered early), bytes written now would land inside that response, so the
 * connection is cut instead.
 */
export function handleClientError(error: NodeJS.ErrnoException & { reason?: unknown }, socket: Duplex): void {
  // The parser stays failed: every later chunk from the client reports the same error again.
  if (closing.has(socket) && error.code !== 'ECONNRESET') return;
  if (error.code === 'ECONNRESET' || !socket.writable) {
    socket.destroy();
    return;
  }
  const res = responseOnSocket(socket);
  if (res !== null) {
    // The parser is still inside this request (it is not complete), so the bad bytes are its body's.
    // A client that ends its side half-way through a body (HPE_INVALID_EOF_STATE) has left, like one that resets.
    if (!res.headersSent && !res.req.complete && error.code !== 'HPE_INVALID_EOF_STATE') {
      closing.add(socket);
      res.shouldKeepAlive = false;
      failRequestBody(res.req, clientErrorOf(error));
    } else {
      socket.destroy();
    }
    return;
  }
  const traceId = newTraceId();
  answerAndClose(socket, rawErrorResponse(clientErrorOf(error), traceId, traceId));
}

/** The error (docs/errors.md) for what Node reports about a connection whose request it could not parse or wait for. */
export function clientErrorOf(error: NodeJS.ErrnoException & { reason?: unknown }): GatewayError {
  switch (error.code) {
    case 'HPE_HEADER_OVERFLOW':
      return new GatewayError('headers_too_large', 'the request head is larger than the gateway accepts (server.maxHeaderBytes)');
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return new GatewayError('request_timeout', 'the request head did not arrive in time (server.headersTimeoutMs)');
    default:
      // llhttp's reasons are fixed strings ("Invalid header value char"), never the client's bytes.
      return new GatewayError('bad_request', typeof error.reason === 'string' ? `malformed HTTP request: ${error.reason}` : 'malformed HTTP request');
  }
}

/**
 * Writes `response` and half-closes the connection. The client gets CLOSE_LINGER_MS to read it
 * and close its side (what it sends meanwhile is discarded) before the connection is destroyed,
 * so a client that never closes does not keep it, and one still sending is not reset before it
 * could read the answer.
 */
function answerAndClose(socket: Duplex, response: string): void {
  closing.add(socket);
  socket.end(response);
  const timer = setTimeout(() => socket.destroy(), CLOSE_LINGER_MS);
  timer.unref();
  socket.once('close', () => clearTimeout(timer));
}

/** Node keeps the response of the oldest request still being handled on a connection as `_httpMessage` until it finishes. */
function responseOnSocket(socket: Duplex): ServerResponse | null {
  return (socket as Duplex & { _httpMessage?: ServerResponse | null })._httpMessage ?? null;
}
