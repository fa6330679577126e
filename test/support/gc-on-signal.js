'use strict';
/*
 * Test-only preload (NODE_OPTIONS=--require): on SIGUSR2 the process runs full garbage
 * collections and then writes "gc-done <n>" on stderr, so a memory test can read the resident
 * size of what is really held, not of garbage the collector has not reached yet.
 *
 * Just before that line it writes "gc-stats <n> timers=<t> refTimers=<r> handles=<h> young=<bytes> resources=<json>",
 * so a leak test can see timers and handles pile up. process.getActiveResourcesInfo() lists only
 * what keeps the loop alive: unref'd timers (health checks, deadlines, debounces) and unref'd
 * sockets (undici's idle ones) are missing from it. So `timers` counts every live timer made by
 * setTimeout/setInterval, unref'd or not, tracked here; `refTimers` and `handles` (the other
 * entries) come from getActiveResourcesInfo(). "gc-done <n>" stays a line of its own.
 */
const timers = require('node:timers');
const { promisify } = require('node:util');
const v8 = require('node:v8');
const vm = require('node:vm');

v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc');

/**
 * Timers that may be live, held weakly (a live timer is held by node's timer lists anyway), so a
 * timer ended in a way not seen here (close(), clear by id) costs nothing until the next sweep.
 */
const live = new Set();
const ref = Symbol('gc-on-signal timer ref');
/** A fired or cleared timer has `_destroyed` set (node's own flag, also set by close() and clear by id). */
const isLive = (timer) => timer !== undefined && timer._destroyed !== true;
let sweepAt = 1024;
function track(timer) {
  timer[ref] ??= new WeakRef(timer);
  live.add(timer[ref]);
  if (live.size < sweepAt) return;
  sweep();
  sweepAt = Math.max(1024, live.size * 2);
}
function untrack(timer) {
  if (timer !== null && typeof timer === 'object' && timer[ref]) live.delete(timer[ref]);
}
function sweep() {
  for (const weak of live) if (!isLive(weak.deref())) live.delete(weak);
}

const originalSetTimeout = timers.setTimeout;
const originalSetInterval = timers.setInterval;
const originalClearTimeout = timers.clearTimeout;
const originalClearInterval = timers.clearInterval;

function trackedSetTimeout(callback, ...rest) {
  if (typeof callback !== 'function') return originalSetTimeout(callback, ...rest);
  const timer = originalSetTimeout(function fired(...args) {
    untrack(timer); // before the callback, which may refresh() it
    return callback.apply(this, args);
  }, ...rest);
  track(timer);
  return timer;
}
trackedSetTimeout[promisify.custom] = originalSetTimeout[promisify.custom];
function trackedSetInterval(...args) {
  const timer = originalSetInterval(...args);
  track(timer);
  return timer;
}
function clear(original) {
  return function trackedClear(timer) {
    untrack(timer);
    return original(timer);
  };
}

const probe = originalSetTimeout(() => undefined, 0);
originalClearTimeout(probe);
const timeoutPrototype = Object.getPrototypeOf(probe);
const originalRefresh = timeoutPrototype.refresh;
timeoutPrototype.refresh = function refresh() {
  track(this);
  return originalRefresh.call(this);
};

const patched = {
  setTimeout: trackedSetTimeout,
  setInterval: trackedSetInterval,
  clearTimeout: clear(originalClearTimeout),
  clearInterval: clear(originalClearInterval),
};
Object.assign(timers, patched);
Object.assign(globalThis, patched);

let rounds = 0;
process.on('SIGUSR2', () => {
  gc();
  gc();
  sweep();
  const resources = {};
  for (const name of process.getActiveResourcesInfo()) resources[name] = (resources[name] ?? 0) + 1;
  const refTimers = resources.Timeout ?? 0;
  const handles = Object.values(resources).reduce((sum, n) => sum + n, 0) - refTimers;
  const round = ++rounds;
  // The young generation's committed size: V8 grows and shrinks it with the allocation rate, which moves RSS by tens of MiB.
  const young = v8.getHeapSpaceStatistics().find((space) => space.space_name === 'new_space')?.physical_space_size ?? 0;
  process.stderr.write(`gc-stats ${round} timers=${live.size} refTimers=${refTimers} handles=${handles} young=${young} resources=${JSON.stringify(resources)}\n`);
  process.stderr.write(`gc-done ${round}\n`);
});
