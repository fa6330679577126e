import type { ServerResponse } from 'node:http';
import { GatewayError } from '../errors/gateway-error';
import type { RequestEnd } from '../lifecycle/request-end';
import type { RequestContext } from '../trace/request-context';
import type { Deadline, DeadlineQueue } from './deadline-queue';

export const clientClosed = (): GatewayError => new GatewayError('client_closed', 'the client closed the connection');

/**
 * The AbortSignal that owns one proxied request's upstream work. It is aborted when the route's
 * `timeoutMs` passes before response headers arrive (reason: 504 upstream_timeout) or when the
 * client goes away first (reason: client_closed, logged as 499). The reason is a GatewayError,
 * so failures are told apart by type, never by message.
 */
export class RequestCancellation {
  private readonly controller = new AbortController();
  private deadline: Deadline | null;

  constructor(
    private readonly res: ServerResponse,
    end: RequestEnd,
    deadlines: DeadlineQueue,
    readonly timeoutMs: number,
    private readonly context: RequestContext | undefined,
  ) {
    this.deadline = deadlines.schedule(timeoutMs, this.onDeadline);
    end.onEnd(this.onEnd);
  }

  /** Aborted on the deadline or when the request ends unfinished; the upstream call takes it and stops at once. */
  get signal(): AbortSignal {
    return this.controller.signal;
  }

  /** Response headers arrived: the deadline no longer applies; the body streams for as long as it needs. */
  responseStarted(): void {
    this.deadline?.cancel();
    this.deadline = null;
  }

  private readonly onDeadline = (): void => {
    this.deadline = null;
    // The response has started: all that is left is to cut it, and say so in the access log.
    if (this.res.headersSent && this.context) this.context.code = 'upstream_timeout';
    this.abort(new GatewayError('upstream_timeout', `no response headers from the upstream within ${this.timeoutMs} ms`, {}, 'timeout'));
  };

  private readonly onEnd = (): void => {
    this.deadline?.cancel();
    this.deadline = null;
    if (!this.res.writableFinished) this.abort(clientClosed());
  };

  private abort(reason: GatewayError): void {
    this.controller.abort(reason);
  }
}
