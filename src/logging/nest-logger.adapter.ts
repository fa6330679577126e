import type { LoggerService } from '@nestjs/common';
import type { GatewayLogger } from './gateway-logger';

/** Nest's chatty start-up contexts, demoted to debug so `info` shows what operators need. */
const QUIET_CONTEXTS = new Set(['InstanceLoader', 'RoutesResolver', 'RouterExplorer', 'NestFactory', 'NestApplication']);

type Level = 'debug' | 'info' | 'warn' | 'error';

/** Nest's LoggerService on top of pino, so Nest's own lines are JSON lines too. */
export class NestLoggerAdapter implements LoggerService {
  constructor(private readonly logger: GatewayLogger) {}

  log(message: unknown, ...rest: unknown[]): void {
    const context = contextOf(rest);
    this.write(context && QUIET_CONTEXTS.has(context) ? 'debug' : 'info', message, context);
  }

  error(message: unknown, ...rest: unknown[]): void {
    const stack = rest.length > 1 && typeof rest[0] === 'string' ? rest[0] : undefined;
    this.write('error', message, contextOf(rest), stack);
  }

  warn(message: unknown, ...rest: unknown[]): void {
    this.write('warn', message, contextOf(rest));
  }

  debug(message: unknown, ...rest: unknown[]): void {
    this.write('debug', message, contextOf(rest));
  }

  verbose(message: unknown, ...rest: unknown[]): void {
    this.write('debug', message, contextOf(rest));
  }

  private write(level: Level, message: unknown, context?: string, stack?: string): void {
    if (!this.logger.isLevelEnabled(level)) return;
    const fields: Record<string, unknown> = typeof message === 'object' && message !== null ? { ...message } : { msg: String(message) };
    if (context) fields.context = context;
    if (stack) fields.stack = stack;
    this.logger[level](fields);
  }
}

function contextOf(rest: unknown[]): string | undefined {
  const last = rest[rest.length - 1];
  return typeof last === 'string' ? last : undefined;
}
