import { Inject, Injectable } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Writable } from 'node:stream';
import type { TLSSocket } from 'node:tls';
import { GATEWAY_CONFIG } from '../config/config.tokens';
import type { GatewayConfig } from '../config/gateway-config.types';
import type { RequestCancellation } from '../timeout/request-cancellation';
import type { UpstreamRequest, UpstreamResponseHead } from '../upstream/upstream-client';
import { mapUpstreamError } from '../upstream/upstream-error-mapper';
import { UpstreamRegistry } from '../upstream/upstream-registry.service';
import { bodyTooLarge, RequestBodyStream } from './request-body';
import { clientResponseHeaders, upstreamRequestHeaders } from './request-headers';
import { RetryPolicy } from './retry-policy';

/**
 * Forwards one matched request to its upstream and streams the response back (CONTRACT §4),
 * retrying on another target where the route's retry policy allows. Both bodies stream with
 * backpressure; nothing is buffered whole.
 */
@Injectable()
export class ProxyService {
  private readonly bodyLimit: number;
  private readonly trustProxy: boolean;

  constructor(
    private readonly upstreams: UpstreamRegistry,
    @Inject(GATEWAY_CONFIG) config: GatewayConfig,
  ) {
    this.bodyLimit = config.server.bodyLimitBytes;
    this.trustProxy = config.server.trustProxy;
  }

  async forward(request: FastifyRequest, reply: FastifyReply): Promise<void> {
    const route = request.gatewayRoute!;
    const cancellation = request.gatewayCancellation!;
    const client = this.upstreams.client(route.settings.upstream);
    const req = request.raw;
    const res = reply.raw;
    let body = this.requestBody(req);
    reply.hijack();
    const retry = new RetryPolicy(req, route, body !== null);
    const call: Omit<UpstreamRequest, 'body'> = {
      method: req.method!,
      path: request.gatewayUpstreamPath,
      headers: upstreamRequestHeaders(req.headers, {
        clientIp: clientAddress(req),
        protocol: (req.socket as TLSSocket).encrypted ? 'https' : 'http',
        trustProxy: this.trustProxy,
        preserveHost: client.settings.preserveHost,
      }),
      signal: cancellation.signal,
    };
    let target = client.pickTarget();
    for (let attempt = 0; ; attempt++) {
      let discarded = false;
      try {
        await cancellation.bound(
          client.forward(target, { ...call, body }, (head) => {
            if (retry.retriesStatus(attempt, head.statusCode)) {
              discarded = true;
              return discardSink();
            }
            return startResponse(res, head, cancellation);
          }),
        );
        if (!discarded) return;
      } catch (error) {
        if (cancellation.signal.aborted) throw cancellation.signal.reason;
        if (!retry.retriesError(attempt, error, body === null || body.untouched)) throw mapUpstreamError(error, client.settings.name);
        if (body !== null) body = req.pipe(new RequestBodyStream(this.bodyLimit));
      }
      target = client.pickTarget(target);
    }
  }

  /** The body to stream upstream, or null when the request has none. */
  private requestBody(req: IncomingMessage): RequestBodyStream | null {
    const length = req.headers['content-length'];
    if (length !== undefined) {
      if (Number(length) > this.bodyLimit) throw bodyTooLarge(this.bodyLimit);
      if (length === '0') return null;
    } else if (req.headers['transfer-encoding'] === undefined) {
      return null;
    }
    return req.pipe(new RequestBodyStream(this.bodyLimit));
  }
}

function startResponse(res: ServerResponse, head: UpstreamResponseHead, cancellation: RequestCancellation): ServerResponse {
  // Too late: the 504 (or the client's departure) has already been dealt with.
  if (cancellation.signal.aborted) throw cancellation.signal.reason;
  cancellation.responseStarted();
  res.writeHead(head.statusCode, clientResponseHeaders(head.headers));
  return res;
}

function discardSink(): Writable {
  return new Writable({ write: (_chunk, _encoding, callback) => callback() });
}

function clientAddress(req: IncomingMessage): string {
  const address = req.socket.remoteAddress ?? '';
  return address.startsWith('::ffff:') ? address.slice(7) : address;
}
