import type { Duplex, Readable } from 'node:stream';
import { parseHeaders } from './undici-parts';
import type { IncomingHttpHeaders } from 'node:http';
import { ForwardHandler } from './forward-handler';
import type { AttemptProgress, ResponseSinkFactory } from './upstream-client';
import type { CancelSignal } from '../timeout/cancel-signal';

/** The upstream switched protocols: its 101 head and the socket, now a raw tunnel end. */
export type OnUpgraded = (statusCode: number, headers: IncomingHttpHeaders, socket: Duplex) => void;

/**
 * An upgrade attempt (WebSocket handshake): a 101 hands the upstream socket over; any other
 * answer (the upstream refusing the upgrade) is streamed into the sink like a normal response.
 */
export class UpgradeHandler extends ForwardHandler {
  constructor(
    target: { inFlight: number },
    signal: CancelSignal,
    sinkFactory: ResponseSinkFactory,
    progress: AttemptProgress,
    resolve: () => void,
    reject: (error: unknown) => void,
    body: Readable | null,
    private readonly onUpgraded: OnUpgraded,
  ) {
    super(target, signal, sinkFactory, progress, resolve, reject, body);
  }

  onUpgrade(statusCode: number, rawHeaders: Buffer[] | string[] | null, socket: Duplex): void {
    if (this.isSettled) {
      socket.destroy();
      return;
    }
    this.settle();
    this.onUpgraded(statusCode, parseHeaders(rawHeaders ?? []), socket);
    this.resolve();
  }
}
