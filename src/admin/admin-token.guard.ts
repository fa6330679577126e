import { CanActivate, ExecutionContext, Inject, Injectable } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { createHash, timingSafeEqual } from 'node:crypto';
import { GATEWAY_ENVIRONMENT } from '../config/config.tokens';
import type { GatewayEnvironment } from '../config/environment';
import { GatewayError } from '../errors/gateway-error';
import type { GatewayLogger } from '../logging/gateway-logger';
import { GATEWAY_LOGGER } from '../telemetry/telemetry.tokens';

type AdminAuth = 'ok' | 'missing' | 'wrong';

/**
 * Bearer `GATEWAY_ADMIN_TOKEN` on every admin call, compared in constant time (digests of equal
 * length, so neither the content nor the length of the token leaks through timing). Every call
 * is logged when it ends: method, path, whether the token was right, status. Never the token.
 */
@Injectable()
export class AdminTokenGuard implements CanActivate {
  private readonly expected: Buffer;

  constructor(
    @Inject(GATEWAY_ENVIRONMENT) environment: GatewayEnvironment,
    @Inject(GATEWAY_LOGGER) private readonly logger: GatewayLogger,
  ) {
    // AdminModule only installs this guard when the token is set.
    this.expected = digest(environment.adminToken ?? '');
  }

  canActivate(context: ExecutionContext): boolean {
    const http = context.switchToHttp();
    const request = http.getRequest<FastifyRequest>();
    const auth = this.authOf(request.headers.authorization);
    const res = http.getResponse<FastifyReply>().raw;
    const path = (request.raw.url ?? '').split('?')[0];
    res.once('close', () => {
      const line = { context: 'Admin', msg: 'admin call', method: request.method, path, auth, status: res.statusCode };
      if (auth === 'ok') this.logger.info(line);
      else this.logger.warn(line);
    });
    if (auth === 'ok') return true;
    throw new GatewayError('unauthorized', auth === 'missing' ? 'the admin API needs a bearer token' : 'the bearer token is not valid', {
      'www-authenticate': `Bearer realm="gateway admin"${auth === 'wrong' ? ', error="invalid_token"' : ''}`,
    });
  }

  private authOf(header: string | undefined): AdminAuth {
    const match = header === undefined ? null : /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(header);
    if (match === null) return 'missing';
    return timingSafeEqual(digest(match[1]), this.expected) ? 'ok' : 'wrong';
  }
}

function digest(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}
