'use strict';
/*
 * Preloaded (`node -r ./bench/lib/orphan-guard.js ...`) into every process the harness starts,
 * including the gateway, so that no child outlives the harness even when the harness itself is
 * killed with SIGKILL: when the parent process goes away (our ppid changes), exit.
 * One unref'd timer every 500 ms; its cost is nil next to the load.
 */
const parent = process.ppid;
setInterval(() => {
  if (process.ppid !== parent) process.exit(2);
}, 500).unref();
