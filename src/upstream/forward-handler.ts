import type { Readable, Writable } from 'node:stream';
import type { Dispatcher } from 'undici';
import { writeReleasingChunk } from './chunk-release';
import { parseHeaders } from './undici-parts';
import type { AttemptProgress, ResponseSinkFactory } from './upstream-client';
import type { CancelSignal } from '../timeout/cancel-signal';

/**
 * One attempt of a proxied request as an undici dispatch handler: the response is written
 * into the sink the factory returns, with backpressure (a full sink pauses the upstream
 * socket until it drains).
 *
 * It uses undici 7's own handler callbacks (onConnect/onHeaders/onData/…), not the
 * controller-style ones, because only these report `onRequestSent`/`onBodySent`: whether any
 * byte of the request reached the socket, which decides whether a failed attempt may be sent
 * again (a request the upstream may have seen is not replayed unless it is idempotent).
 *
 * It settles once: on completion, on an undici error, or when `signal` aborts, whichever is
 * first. It never tears the sink down: what the client sees of a failure is the caller's
 * decision, taken after the failure is classified.
 */
export class ForwardHandler implements Dispatcher.DispatchHandler {
  private abortUpstream: ((reason?: Error) => void) | null = null;
  private resumeUpstream: (() => void) | null = null;
  /** True while the sink's 'drain' resumes the upstream (from the first full write on). */
  private listeningForDrain = false;
  private sink: Writable | null = null;
  private settled = false;

  constructor(
    /** The target this attempt goes to: counted in its in-flight requests until the attempt settles. */
    private readonly target: { inFlight: number },
    private readonly signal: CancelSignal,
    private readonly sinkFactory: ResponseSinkFactory,
    private readonly progress: AttemptProgress,
    protected readonly resolve: () => void,
    private readonly reject: (error: unknown) => void,
    body: Readable | null,
  ) {
    target.inFlight++;
    signal.addEventListener('abort', this.onAbort);
    // A body that fails before undici starts writing it has nobody else listening.
    body?.on('error', this.fail);
  }

  onConnect(abort: (reason?: Error) => void): void {
    if (this.settled) abort(this.signal.reason as Error);
    else this.abortUpstream = abort;
  }

  onBodySent(): void {
    this.progress.requestWritten = true;
  }

  /** Called by undici once the whole request is on the socket (not part of its public types). */
  onRequestSent(): void {
    this.progress.requestWritten = true;
  }

  onHeaders(statusCode: number, rawHeaders: Buffer[], resume: () => void): boolean {
    if (statusCode < 200 || this.settled) return true;
    // May throw (the request was cancelled meanwhile): undici then aborts the request with it.
    const sink = this.sinkFactory({ statusCode, headers: parseHeaders(rawHeaders) });
    this.sink = sink;
    this.resumeUpstream = resume;
    return true;
  }

  onData(chunk: Buffer): boolean {
    const sink = this.sink;
    // undici hands over an empty chunk each time it resumes a paused socket: nothing to write
    // (written, each would be a call into the socket for no byte).
    if (sink === null || this.settled || chunk.length === 0) return true;
    if (writeReleasingChunk(sink, chunk)) return true;
    // A full sink pauses the upstream (false), its 'drain' resumes it. The listener is added at
    // the first full write and kept for the rest of the body: most small responses never need one.
    if (!this.listeningForDrain) {
      this.listeningForDrain = true;
      sink.on('drain', this.resumeUpstream!);
    }
    return false;
  }

  onComplete(): void {
    if (this.settled) return;
    this.sink?.end();
    this.settle();
    this.resolve();
  }

  onError(error: Error): void {
    if (this.settled) return;
    this.settle();
    this.reject(error);
  }

  /** Ends the attempt from this side (cancelled, or the client's body failed): undici is told to stop. */
  private readonly fail = (error: unknown): void => {
    if (this.settled) return;
    this.settle();
    this.abortUpstream?.(error as Error);
    this.reject(error);
  };

  private readonly onAbort = (): void => this.fail(this.signal.reason);

  /** True once the attempt has ended one way or another. */
  protected get isSettled(): boolean {
    return this.settled;
  }

  protected settle(): void {
    this.settled = true;
    this.target.inFlight--;
    this.signal.removeEventListener('abort', this.onAbort);
    if (this.listeningForDrain) this.sink!.off('drain', this.resumeUpstream!);
  }
}
