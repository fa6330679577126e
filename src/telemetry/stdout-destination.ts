import pino, { type DestinationStream } from 'pino';

/** How long a log line may wait in the buffer when traffic is too light to fill it. */
const FLUSH_INTERVAL_MS = 200;
/**
 * Lines collect until about this many characters (about 350 access lines), then go out together.
 * Each write is a hand-off to a libuv worker thread and back; on the full-policy route on Node 24
 * a batch of 4 KiB cost 85.8 CPU µs per request, 32 KiB 79.3, 128 KiB about 3% less again
 * (bench/ab-builds.js --policies). The 200 ms timer still bounds how long a line waits.
 */
const BATCH_CHARS = 128 * 1024;

/**
 * stdout for the log lines, written in batches: lines collect until 128 KiB, then go out in one
 * asynchronous write, and a timer flushes what a quiet period leaves behind. One write per line
 * was measured at about a tenth of a proxied request's CPU on this 2-core machine.
 *
 * The lines collect here, not in sonic-boom (pino's destination): its write() measures the byte
 * length of the text it already holds on every call, which, handed one line at a time, cost
 * about 3% of the CPU of a request with the access log on (bench/README.md "What each change bought").
 */
export class StdoutDestination implements DestinationStream {
  // No minLength of its own: the batches are made here, and it writes each as it comes.
  private readonly stream = pino.destination({ dest: 1, sync: false });
  private pending = '';
  private readonly timer = setInterval(() => this.release(), FLUSH_INTERVAL_MS);

  constructor() {
    // The timer must not keep a stopping process alive.
    this.timer.unref();
  }

  write(line: string): void {
    this.pending += line;
    if (this.pending.length >= BATCH_CHARS) this.release();
  }

  /**
   * Hands everything buffered to sonic-boom; for start-up lines that scripts wait for, and before
   * exit (what sonic-boom still holds then, pino's own exit hook writes synchronously).
   */
  flush(callback?: (error?: Error) => void): void {
    this.release();
    this.stream.flush(callback);
  }

  /** Hands the lines collected so far to sonic-boom, in one piece. */
  private release(): void {
    if (this.pending === '') return;
    const batch = this.pending;
    this.pending = '';
    this.stream.write(batch);
  }
}
