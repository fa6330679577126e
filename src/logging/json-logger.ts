import type { LoggerService, LogLevel as NestLogLevel } from '@nestjs/common';
import type { LogLevel } from '../config/environment';

const RANK: Readonly<Record<LogLevel, number>> = { debug: 10, info: 20, warn: 30, error: 40 };

/** Nest's chatty start-up contexts, demoted to debug so `info` shows what operators need. */
const QUIET_CONTEXTS = new Set(['InstanceLoader', 'RoutesResolver', 'RouterExplorer', 'NestFactory', 'NestApplication']);

/** Lines operators and scripts rely on (the listening port, shutdown) are written at any LOG_LEVEL. */
export const LIFECYCLE_CONTEXT = 'Lifecycle';

/**
 * Nest's logger as one JSON object per line on stdout (CONTRACT §6), honouring LOG_LEVEL.
 */
export class JsonLogger implements LoggerService {
  private readonly threshold: number;

  constructor(level: LogLevel = 'info') {
    this.threshold = RANK[level];
  }

  log(message: unknown, ...rest: unknown[]): void {
    const context = contextOf(rest);
    if (context === LIFECYCLE_CONTEXT) this.emit('info', message, context);
    else this.write(context && QUIET_CONTEXTS.has(context) ? 'debug' : 'info', message, context);
  }

  error(message: unknown, ...rest: unknown[]): void {
    const context = contextOf(rest);
    const stack = rest.length > 1 && typeof rest[0] === 'string' ? rest[0] : undefined;
    this.write('error', message, context, stack ? { stack } : undefined);
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

  setLogLevels(_levels: NestLogLevel[]): void {
    // LOG_LEVEL decides; Nest's own level list is not used.
  }

  write(level: LogLevel, message: unknown, context?: string, extra?: Record<string, unknown>): void {
    if (RANK[level] >= this.threshold) this.emit(level, message, context, extra);
  }

  private emit(level: LogLevel, message: unknown, context?: string, extra?: Record<string, unknown>): void {
    const line: Record<string, unknown> = { time: new Date().toISOString(), level };
    if (context) line.context = context;
    if (typeof message === 'object' && message !== null) Object.assign(line, message);
    else line.msg = String(message);
    if (extra) Object.assign(line, extra);
    process.stdout.write(`${JSON.stringify(line)}\n`);
  }
}

function contextOf(rest: unknown[]): string | undefined {
  const last = rest[rest.length - 1];
  return typeof last === 'string' ? last : undefined;
}
