import { CanActivate, ForbiddenException, Inject, Injectable, Logger, OnModuleInit, type Type } from '@nestjs/common';
import { ApplicationConfig, ModuleRef } from '@nestjs/core';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { isObservable, lastValueFrom, type Observable } from 'rxjs';
import { GatewayExceptionFilter } from '../errors/gateway-exception.filter';
import { ProxiedRequest } from './proxied-request';
import { ProxyExecutionContext } from './proxy-execution-context';
import { ProxyService } from './proxy.service';

type Verdict = boolean | Promise<boolean> | Observable<boolean>;

/** The guard classes of the pipeline, in order (ProxyModule.forRoot, as app.module.ts declares them). */
export const PROXY_GUARDS = Symbol('gateway.proxyGuards');

/** What the guards see as the handler and its class (`getHandler()`, `getClass()`). */
export class ProxyEndpoint {
  forward(): void {}
}

/**
 * The pipeline of every request that is not a management endpoint (gateway-server.ts hands it
 * over): the policy guards in the order app.module.ts declares them, then the app's global guards
 * (APP_GUARD: a team's own) run on it, then ProxyService forwards it; whatever any step throws
 * goes to GatewayExceptionFilter. That is what Nest's router does for a controller, done here
 * without the router's own per-request work (Fastify's request and reply, its hooks, a promise
 * per guard, the interceptor chain), which was a sixth of the gateway's CPU per proxied request
 * (bench/README.md "What each change bought"). Management endpoints stay Nest controllers on
 * Fastify; the policy guards never see them.
 */
@Injectable()
export class ProxyPipeline implements OnModuleInit {
  private readonly logger = new Logger('ProxyPipeline');
  private guards: readonly CanActivate[] = [];

  constructor(
    @Inject(PROXY_GUARDS) private readonly guardTypes: readonly Type<CanActivate>[],
    private readonly modules: ModuleRef,
    private readonly application: ApplicationConfig,
    private readonly proxy: ProxyService,
    private readonly filter: GatewayExceptionFilter,
  ) {}

  onModuleInit(): void {
    // Each guard is the instance its own module provides; APP_GUARDs are collected before any module initialises.
    const policies = this.guardTypes.map((type) => this.modules.get(type, { strict: false }));
    this.guards = [...policies, ...this.application.getGlobalGuards()];
  }

  /** Runs one request through the guards and the proxy; the response is written by the end of it. */
  handle(req: IncomingMessage, res: ServerResponse): void {
    this.from(0, new ProxyExecutionContext(new ProxiedRequest(req), { raw: res }, ProxyEndpoint, ProxyEndpoint.prototype.forward));
  }

  /** The guards from `index` on, without a promise while each answers at once; then the proxy. */
  private from(index: number, context: ProxyExecutionContext): void {
    const guards = this.guards;
    for (let i = index; i < guards.length; i++) {
      let verdict: Verdict;
      try {
        verdict = guards[i].canActivate(context);
      } catch (error) {
        return this.fail(error, context);
      }
      if (verdict === true) continue;
      if (verdict === false) return this.fail(new ForbiddenException('Forbidden resource'), context);
      (isObservable(verdict) ? lastValueFrom(verdict) : verdict).then(
        (allowed) => (allowed ? this.from(i + 1, context) : this.fail(new ForbiddenException('Forbidden resource'), context)),
        (error: unknown) => this.fail(error, context),
      );
      return;
    }
    this.proxy.forward(context.request, context.reply.raw).catch((error: unknown) => this.fail(error, context));
  }

  private fail(error: unknown, context: ProxyExecutionContext): void {
    try {
      this.filter.catch(error, context);
    } catch (failure) {
      // The filter has the last word; if it fails, cutting the connection is the only answer left.
      this.logger.error(failure instanceof Error ? (failure.stack ?? failure.message) : String(failure));
      context.reply.raw.destroy();
    }
  }
}
