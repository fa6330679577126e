import { ClsServiceManager } from 'nestjs-cls';
import pino, { type DestinationStream, type Logger } from 'pino';
import type { LogLevel } from '../config/environment';
import type { RequestContext } from '../trace/request-context';

export type GatewayLogger = Logger;

/** Never logged, wherever they appear in a logged object. */
const REDACTED = [
  'authorization',
  'cookie',
  'headers.authorization',
  'headers.cookie',
  'headers["proxy-authorization"]',
  'headers["set-cookie"]',
  'adminToken',
  'GATEWAY_ADMIN_TOKEN',
];

/**
 * The process's logger: one JSON object per line on stdout (docs/observability.md "Trace context and request ids"). Every line written
 * while a request is handled carries its traceId and requestId, read from CLS at write time, so
 * lines from any async continuation are attributed to the right request.
 */
export function createGatewayLogger(level: LogLevel, destination: DestinationStream): GatewayLogger {
  return pino(
    {
      level,
      base: undefined,
      messageKey: 'msg',
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      redact: { paths: REDACTED, censor: '[redacted]' },
      mixin: traceFields,
    },
    destination,
  );
}

/** Lines operators and scripts rely on (the listening port, shutdown), written at any LOG_LEVEL. */
export function lifecycleLogger(logger: GatewayLogger): GatewayLogger {
  return logger.child({ context: 'Lifecycle' }, { level: 'info' });
}

function traceFields(): Record<string, string> {
  const store = ClsServiceManager.getClsService<RequestContext>().get();
  return store?.traceId ? { traceId: store.traceId, requestId: store.requestId } : {};
}
