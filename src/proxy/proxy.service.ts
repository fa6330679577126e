import { Inject, Injectable } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Readable } from 'node:stream';
import type { TLSSocket } from 'node:tls';
import { GATEWAY_CONFIG } from '../config/config.tokens';
import type { GatewayConfig } from '../config/gateway-config.types';
import { GatewayError } from '../errors/gateway-error';
import { mapUpstreamError } from '../upstream/upstream-error-mapper';
import { UpstreamRegistry } from '../upstream/upstream-registry.service';
import type { UpstreamResponseHead } from '../upstream/upstream-client';
import { BodyLimitStream, bodyTooLarge } from './body-limit';
import { clientResponseHeaders, upstreamRequestHeaders } from './request-headers';

/** The reason a request's upstream call is aborted when its client goes away. */
export const clientClosed = (): GatewayError => new GatewayError('client_closed', 'the client closed the connection');

/**
 * Forwards one matched request to its upstream and streams the response back (CONTRACT §4).
 * Both bodies stream with backpressure; nothing is buffered whole.
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
    const client = this.upstreams.client(route.settings.upstream);
    const req = request.raw;
    const res = reply.raw;
    const body = this.requestBody(req);
    const controller = new AbortController();
    const onClose = (): void => {
      if (!res.writableFinished) controller.abort(clientClosed());
    };
    res.once('close', onClose);
    reply.hijack();
    try {
      await client.forward(
        client.pickTarget(),
        {
          method: req.method!,
          path: request.gatewayUpstreamPath,
          headers: upstreamRequestHeaders(req.headers, {
            clientIp: clientAddress(req),
            protocol: (req.socket as TLSSocket).encrypted ? 'https' : 'http',
            trustProxy: this.trustProxy,
            preserveHost: client.settings.preserveHost,
          }),
          body,
          signal: controller.signal,
        },
        (head) => writeResponseHead(res, head),
      );
    } catch (error) {
      throw controller.signal.aborted ? (controller.signal.reason as GatewayError) : mapUpstreamError(error, client.settings.name);
    } finally {
      res.off('close', onClose);
    }
  }

  /** The body to stream upstream, or null when the request has none. Declared lengths are checked before any byte moves. */
  private requestBody(req: IncomingMessage): Readable | null {
    const length = req.headers['content-length'];
    if (length !== undefined) {
      if (Number(length) > this.bodyLimit) throw bodyTooLarge(this.bodyLimit);
      return length === '0' ? null : req;
    }
    if (req.headers['transfer-encoding'] === undefined) return null;
    const counted = new BodyLimitStream(this.bodyLimit);
    counted.once('error', () => {
      // Stop reading the rest of an oversized upload, but leave the socket open for the 413.
      req.unpipe(counted);
      req.resume();
    });
    return req.pipe(counted);
  }
}

function writeResponseHead(res: ServerResponse, head: UpstreamResponseHead): ServerResponse {
  res.writeHead(head.statusCode, clientResponseHeaders(head.headers));
  return res;
}

function clientAddress(req: IncomingMessage): string {
  const address = req.socket.remoteAddress ?? '';
  return address.startsWith('::ffff:') ? address.slice(7) : address;
}
