'use strict';
/*
 * Test-only preload (NODE_OPTIONS=--require): any attempt to listen on a port writes
 * "no-listen: listen() called" on stderr and exits 99, so a test can show a command binds nothing.
 */
const { writeSync } = require('node:fs');
const net = require('node:net');

net.Server.prototype.listen = function refusedListen() {
  writeSync(2, 'no-listen: listen() called\n');
  process.exit(99);
};
