import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import type { GatewayErrorCode } from '../errors/error-catalogue';
import { GatewayError } from '../errors/gateway-error';
import { clientAddress } from '../proxy/client-address';
import { addGatewayHeaders } from '../trace/gateway-response-headers';
import type { RequestContext } from '../trace/request-context';
import type { PluginRequest, PluginResponse } from './gateway-plugin';

/** Thrown (and ignored by the exception filter) once a plugin has answered the request itself. */
export class AnsweredByPlugin extends Error {
  constructor() {
    super('answered by a plugin');
    this.name = 'AnsweredByPlugin';
  }
}

/** One request as its plugins see it. Header edits go straight to the request the proxy forwards. */
export class PluginCall implements PluginRequest {
  answered = false;

  constructor(
    private readonly req: IncomingMessage,
    readonly response: ServerResponse,
    private readonly context: RequestContext,
    readonly route: string,
  ) {}

  get method(): string {
    return this.req.method ?? 'GET';
  }

  get url(): string {
    return this.req.url ?? '/';
  }

  get headers(): IncomingMessage['headers'] {
    return this.req.headers;
  }

  get clientIp(): string {
    return clientAddress(this.req);
  }

  get traceId(): string {
    return this.context.traceId;
  }

  get requestId(): string {
    return this.context.requestId;
  }

  setRequestHeader(name: string, value: string): void {
    this.req.headers[name.toLowerCase()] = value;
  }

  removeRequestHeader(name: string): void {
    // Not `delete`: that turns Node's headers object into a slow dictionary for every later read.
    // An undefined header is not forwarded (request-headers.ts), and reads as absent.
    this.req.headers[name.toLowerCase()] = undefined;
  }

  setConsumer(id: string): void {
    this.context.consumerId = id;
  }

  refuse(code: GatewayErrorCode, message: string, headers: Readonly<Record<string, string>> = {}): never {
    throw new GatewayError(code, message, headers);
  }

  respond(status: number, headers: OutgoingHttpHeaders = {}): void {
    if (this.answered) throw new Error('a plugin already answered this request');
    this.answered = true;
    this.response.writeHead(status, { ...addGatewayHeaders({}, this.context), ...headers, 'content-length': 0 });
    this.response.end();
  }
}

/** The upstream's response head as plugins see it; edits land in the headers the client gets. */
export class PluginResponseHead implements PluginResponse {
  constructor(
    readonly status: number,
    readonly request: PluginCall,
    readonly headers: OutgoingHttpHeaders,
  ) {}

  setHeader(name: string, value: string | string[]): void {
    this.headers[name.toLowerCase()] = value;
  }

  removeHeader(name: string): void {
    delete this.headers[name.toLowerCase()];
  }
}
