import type { ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

type EndCallback = () => void;

/** The requests whose response is still open on one connection, ended together when it closes. */
const OPEN_ON_SOCKET = Symbol('gateway.openRequests');

type TrackedSocket = Socket & { [OPEN_ON_SOCKET]?: Set<RequestEnd> };

/**
 * Says once, and only once, that a request is over for the gateway: its response closed, or
 * the connection under it did. The connection counts because Node 20 never emits 'close' on a
 * pipelined response still queued behind another when the client resets the connection, and
 * whatever that request held (permits, deadline, access line) must still be given back.
 * Callbacks run in the order they were added; one added after the end runs at once.
 */
export class RequestEnd {
  private callbacks: EndCallback[] = [];
  private done = false;
  private readonly socket: TrackedSocket | null;

  constructor(res: ServerResponse) {
    // on, not once (which wraps the listener), and never removed: a later 'close' finds it done.
    res.on('close', this.end);
    const socket = res.req.socket as TrackedSocket | null;
    this.socket = socket;
    if (socket === null) return;
    if (socket.destroyed) {
      // Already gone: nothing will ever emit for it.
      queueMicrotask(this.end);
      return;
    }
    let open = socket[OPEN_ON_SOCKET];
    if (open === undefined) {
      const set = (open = new Set<RequestEnd>());
      socket[OPEN_ON_SOCKET] = set;
      socket.once('close', () => {
        for (const request of set) request.end();
      });
    }
    open.add(this);
  }

  /** True once the request is over. */
  get ended(): boolean {
    return this.done;
  }

  /** Calls `callback` when the request is over (at once if it already is). */
  onEnd(callback: EndCallback): void {
    if (this.done) callback();
    else this.callbacks.push(callback);
  }

  /** Forgets a callback that no longer needs to run. */
  off(callback: EndCallback): void {
    const at = this.callbacks.indexOf(callback);
    if (at !== -1) this.callbacks.splice(at, 1);
  }

  private readonly end = (): void => {
    if (this.done) return;
    this.done = true;
    this.socket?.[OPEN_ON_SOCKET]?.delete(this);
    const callbacks = this.callbacks;
    this.callbacks = [];
    for (const callback of callbacks) callback();
  };
}
