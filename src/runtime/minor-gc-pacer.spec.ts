import { PerformanceObserver, constants } from 'node:perf_hooks';
import { MinorGcPacer, minorGcFunction } from './minor-gc-pacer';

const MiB = 1024 * 1024;

describe('MinorGcPacer', () => {
  it('collects once each time a whole step of bytes has been noted, and not before', () => {
    let collections = 0;
    const pacer = new MinorGcPacer(32 * MiB, () => collections++);
    for (let i = 0; i < 31; i++) pacer.note(MiB);
    expect(collections).toBe(0);
    pacer.note(MiB);
    expect(collections).toBe(1);
    // The next step starts afresh: 64 KiB reads, as a socket delivers them, for another 32 MiB.
    for (let i = 0; i < 511; i++) pacer.note(64 * 1024);
    expect(collections).toBe(1);
    pacer.note(64 * 1024);
    expect(collections).toBe(2);
  });

  it('counts without collecting when no gc() could be had', () => {
    const pacer = new MinorGcPacer(MiB, null);
    expect(() => pacer.note(10 * MiB)).not.toThrow();
  });
});

describe('minorGcFunction', () => {
  it('returns a gc() that runs a minor collection in this process, without --expose-gc', async () => {
    expect(process.execArgv).not.toContain('--expose-gc');
    const minorGc = minorGcFunction();
    expect(minorGc).not.toBeNull();
    const kinds: number[] = [];
    const observer = new PerformanceObserver((list) => {
      for (const entry of list.getEntries()) kinds.push((entry as unknown as { detail: { kind: number } }).detail.kind);
    });
    observer.observe({ entryTypes: ['gc'] });
    try {
      minorGc!();
      // GC entries are delivered on a later turn of the event loop.
      await new Promise((resolve) => setImmediate(resolve));
      await new Promise((resolve) => setImmediate(resolve));
    } finally {
      observer.disconnect();
    }
    expect(kinds).toContain(constants.NODE_PERFORMANCE_GC_MINOR);
  });

  it('leaves the global scope as it found it (no gc() for plugins to call)', () => {
    minorGcFunction();
    expect((globalThis as { gc?: unknown }).gc).toBeUndefined();
  });
});
