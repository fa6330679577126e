'use strict';
/*
 * Test-only preload (NODE_OPTIONS=--require): counts the process's garbage collections by kind
 * (perf_hooks 'gc' entries) and, on SIGUSR2, writes "gc-counts <n> <json>" on stderr with the
 * counts so far: {"major":…,"minor":…,"incremental":…,"weakcb":…}. A test reads it before and
 * after a transfer to see how many full collections the transfer cost.
 */
const { writeSync } = require('node:fs');
const { PerformanceObserver, constants } = require('node:perf_hooks');

const counts = { major: 0, minor: 0, incremental: 0, weakcb: 0 };
const KIND_NAMES = new Map([
  [constants.NODE_PERFORMANCE_GC_MAJOR, 'major'],
  [constants.NODE_PERFORMANCE_GC_MINOR, 'minor'],
  [constants.NODE_PERFORMANCE_GC_INCREMENTAL, 'incremental'],
  [constants.NODE_PERFORMANCE_GC_WEAKCB, 'weakcb'],
]);
new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) {
    const name = KIND_NAMES.get(entry.detail?.kind);
    if (name !== undefined) counts[name]++;
  }
}).observe({ entryTypes: ['gc'] });

let round = 0;
process.on('SIGUSR2', () => {
  // GC entries reach the observer a moment after the collection: let those already made arrive first.
  setImmediate(() => writeSync(2, `gc-counts ${++round} ${JSON.stringify(counts)}\n`));
});
