import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/** Runs one minor (young-generation) collection now. */
export type MinorGc = () => void;

/** Body bytes streamed between two paced collections: half of V8's 64 MiB external-memory trigger. */
export const PACED_GC_STEP_BYTES = 32 * 1024 * 1024;

/**
 * Runs a minor GC each time `stepBytes` more body bytes have streamed through the gateway.
 *
 * Why: every read from a socket lands in a fresh buffer outside the JS heap, and a streamed body
 * allocates those far faster than it allocates JS objects. The young generation then hardly
 * fills, so no scavenge frees the dead buffers; V8 counts them as external memory instead and,
 * each time that has grown by 64 MiB, runs a full mark-compact of the whole heap (the gateway's
 * is about 30 MiB of Nest, class-validator, undici and its own state). A scavenge costs only what
 * survives it (the few buffers still queued on a socket), well under a millisecond, and frees the
 * rest, so the full collections stop. bench/README.md "What each change bought" has the figures.
 */
export class MinorGcPacer {
  private budget: number;

  constructor(
    private readonly stepBytes: number,
    private readonly collect: MinorGc | null,
  ) {
    this.budget = stepBytes;
  }

  /** `bytes` more of a body have been read from a socket. */
  note(bytes: number): void {
    this.budget -= bytes;
    if (this.budget > 0) return;
    this.budget = this.stepBytes;
    this.collect?.();
  }
}

type V8Gc = (options: { type: 'minor' | 'major' }) => void;

/**
 * V8's gc() as a minor collection: the global one when Node runs with `--expose-gc`, else the
 * one a fresh context gets while the flag is set for a moment (the way jest's leak detector takes
 * it), so the gateway needs no extra command-line flag. Null if neither is available.
 */
export function minorGcFunction(): MinorGc | null {
  let gc = (globalThis as { gc?: unknown }).gc;
  if (typeof gc !== 'function') {
    setFlagsFromString('--expose-gc');
    try {
      gc = runInNewContext('typeof gc === "function" ? gc : undefined') as unknown;
    } finally {
      setFlagsFromString('--no-expose-gc');
    }
  }
  if (typeof gc !== 'function') return null;
  const v8Gc = gc as V8Gc;
  return () => v8Gc({ type: 'minor' });
}

/** The process's pacer: response bodies from upstreams and request bodies from clients report to it. */
export const streamedBodyGc = new MinorGcPacer(PACED_GC_STEP_BYTES, minorGcFunction());
