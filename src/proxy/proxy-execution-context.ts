import type { ExecutionContext, Type } from '@nestjs/common';
import type { HttpArgumentsHost, RpcArgumentsHost, WsArgumentsHost } from '@nestjs/common/interfaces';
import type { ProxiedReply, ProxiedRequest } from './proxied-request';

/**
 * Nest's ExecutionContext for one proxied request, as the pipeline's guards see it
 * (proxy-pipeline.ts): an HTTP context like the one Nest's router builds. Its own class so that
 * `switchToHttp()` allocates nothing: the host is its own HttpArgumentsHost, and the guards
 * call it several times per request.
 */
export class ProxyExecutionContext implements ExecutionContext, HttpArgumentsHost {
  private readonly args: [ProxiedRequest, ProxiedReply];

  constructor(
    readonly request: ProxiedRequest,
    readonly reply: ProxiedReply,
    private readonly handlerClass: Type<unknown>,
    private readonly handler: (...args: never[]) => unknown,
  ) {
    this.args = [request, reply];
  }

  getClass<T = unknown>(): Type<T> {
    return this.handlerClass as Type<T>;
  }

  // eslint-disable-next-line @typescript-eslint/no-unsafe-function-type -- Nest's own signature
  getHandler(): Function {
    return this.handler;
  }

  getArgs<T extends unknown[] = unknown[]>(): T {
    return this.args as unknown as T;
  }

  getArgByIndex<T = unknown>(index: number): T {
    return this.args[index] as T;
  }

  getType<T extends string = 'http'>(): T {
    return 'http' as T;
  }

  switchToHttp(): HttpArgumentsHost {
    return this;
  }

  getRequest<T = ProxiedRequest>(): T {
    return this.request as T;
  }

  getResponse<T = ProxiedReply>(): T {
    return this.reply as T;
  }

  getNext<T = never>(): T {
    return undefined as T;
  }

  switchToRpc(): RpcArgumentsHost {
    throw new Error('a proxied request is an HTTP context');
  }

  switchToWs(): WsArgumentsHost {
    throw new Error('a proxied request is an HTTP context');
  }
}
