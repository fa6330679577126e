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
    let observer: PerformanceObserver | undefined;
    // Resolves with the first GC V8 reports after the call: a minor one if the call ran it.
    const firstKind = new Promise<number>((resolve) => {
      observer = new PerformanceObserver((list) => resolve((list.getEntries()[0] as unknown as { detail: { kind: number } }).detail.kind));
      observer.observe({ entryTypes: ['gc'] });
    });
    try {
      minorGc!();
      expect(await firstKind).toBe(constants.NODE_PERFORMANCE_GC_MINOR);
    } finally {
      observer?.disconnect();
    }
  });
});
