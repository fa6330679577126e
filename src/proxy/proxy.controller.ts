import { All, Controller, Req, Res } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ProxyHandler } from '../routing/route-match.guard';
import { ProxyService } from './proxy.service';

/** The catch-all: every request that is not a management endpoint. Policies run as guards before it. */
@Controller()
export class ProxyController {
  constructor(private readonly proxy: ProxyService) {}

  @All('*')
  @ProxyHandler()
  forward(@Req() request: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    return this.proxy.forward(request, reply);
  }
}
