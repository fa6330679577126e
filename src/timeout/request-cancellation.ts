import type { ServerResponse } from 'node:http';
import { GatewayError } from '../errors/gateway-error';
import type { RequestEnd } from '../lifecycle/request-end';
import type { RequestContext } from '../trace/request-context';
import type { CancelSignal } from './cancel-signal';
import type { Deadline, DeadlineQueue } from './deadline-queue';

export const clientClosed = (): GatewayError => new GatewayError('client_closed', 'the client closed the connection');

/**
 * The signal that owns one proxied request's upstream work (a CancelSignal: an AbortSignal's
 * interface without an EventTarget). It is aborted when the route's `timeoutMs` passes before
 * response headers arrive (reason: 504 upstream_timeout) or when the client goes away first
 * (reason: client_closed, logged as 499). The reason is a GatewayError, so failures are told
 * apart by type, never by message.
 */
export class RequestCancellation implements CancelSignal {
  aborted = false;
  reason: GatewayError | undefined = undefined;
  /** Usually one at a time: the current attempt's. */
  private listeners: (() => void)[] = [];
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
  get signal(): CancelSignal {
    return this;
  }

  addEventListener(_type: 'abort', listener: () => void): void {
    if (!this.aborted) this.listeners.push(listener);
  }

  removeEventListener(_type: 'abort', listener: () => void): void {
    // Usually the one just added: no search.
    const last = this.listeners.length - 1;
    if (last >= 0 && this.listeners[last] === listener) {
      this.listeners.pop();
      return;
    }
    const at = this.listeners.indexOf(listener);
    if (at !== -1) this.listeners.splice(at, 1);
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
    if (this.aborted) return;
    this.aborted = true;
    this.reason = reason;
    const listeners = this.listeners;
    this.listeners = [];
    for (const listener of listeners) listener();
  }
}
