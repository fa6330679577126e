import { All, Controller, Param, Req, Res, type Type } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { GatewayError } from '../errors/gateway-error';
import type { DashboardAsset } from './dashboard-assets';

/**
 * Nothing but the gateway's own files: scripts, styles, images and calls only from this origin,
 * no inline code, never framed. The page reads its figures from the admin API with the token the
 * operator types in (docs/operations.md "Dashboard").
 */
const SECURITY_HEADERS: Record<string, string> = {
  'content-security-policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  // Revalidated on each load (ETag), so a new gateway version shows at once.
  'cache-control': 'no-cache',
};

/** `<managementPrefix>/dashboard` and its files; made per prefix, like the admin controller. */
export function createDashboardController(managementPrefix: string, assets: ReadonlyMap<string, DashboardAsset>): Type<unknown> {
  @Controller(`${managementPrefix}/dashboard`)
  class DashboardController {
    @All()
    page(@Req() request: FastifyRequest, @Res() reply: FastifyReply): void {
      send(request, reply, assets.get('index.html')!);
    }

    @All(':file')
    file(@Param('file') file: string, @Req() request: FastifyRequest, @Res() reply: FastifyReply): void {
      const asset = file === 'index.html' ? undefined : assets.get(file);
      if (asset === undefined) throw new GatewayError('no_route', `no dashboard file ${JSON.stringify(file)}`);
      send(request, reply, asset);
    }
  }
  return DashboardController;
}

function send(request: FastifyRequest, reply: FastifyReply, asset: DashboardAsset): void {
  if (request.method !== 'GET' && request.method !== 'HEAD') {
    throw new GatewayError('method_not_allowed', `${request.method} is not allowed here`, { allow: 'GET, HEAD' });
  }
  void reply.headers(SECURITY_HEADERS).header('etag', asset.etag);
  if (request.headers['if-none-match'] === asset.etag) {
    void reply.status(304).send();
    return;
  }
  void reply.type(asset.contentType).send(asset.body);
}
