import type { Server } from 'node:http';
import type { GatewayLogger } from '../logging/gateway-logger';
import type { TrafficGate } from './traffic-gate';

/**
 * The first half of a stop (docs/operations.md "Shutdown"): stop taking requests, close idle keep-alive
 * connections, and let the requests in flight finish, for at most `graceMs`; whatever is left
 * then is cut. The listener stays open meanwhile, so late clients get a clear 503
 * shutting_down rather than a refused connection. Resolves when nothing is in flight.
 */
export async function drainTraffic(server: Server, gate: TrafficGate, graceMs: number, logger: GatewayLogger): Promise<void> {
  gate.startDraining();
  server.closeIdleConnections();
  // Keep-alive connections whose request finishes during the drain are idle from then on.
  const sweeper = setInterval(() => server.closeIdleConnections(), 100);
  let timer: NodeJS.Timeout | undefined;
  const graceOver = new Promise<'grace'>((resolve) => (timer = setTimeout(resolve, graceMs, 'grace')));
  try {
    const ended = await Promise.race([gate.whenIdle().then(() => 'idle' as const), graceOver]);
    if (ended === 'grace') {
      logger.warn({ context: 'Lifecycle', msg: 'grace period over: cutting requests still in flight', inFlight: gate.inFlight, graceMs });
      server.closeAllConnections();
    }
  } finally {
    clearInterval(sweeper);
    clearTimeout(timer);
  }
}
