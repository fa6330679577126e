'use strict';
/*
 * Test-only preload (NODE_OPTIONS=--require): on SIGUSR2 the process runs full garbage
 * collections and then writes "gc-done <n>" on stderr, so a memory test can read the resident
 * size of what is really held, not of garbage the collector has not reached yet.
 */
const v8 = require('node:v8');
const vm = require('node:vm');

v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc');
let rounds = 0;
process.on('SIGUSR2', () => {
  gc();
  gc();
  process.stderr.write(`gc-done ${++rounds}\n`);
});
