'use strict';
/*
 * Test-only preload (NODE_OPTIONS=--require): holds the gateway inside its server's listen()
 * call, in the middle of start-up, until the file TEST_LISTEN_GATE names exists (10 s at most).
 * A test can then send a signal at a known point of start-up instead of racing it.
 */
const { existsSync, writeSync } = require('node:fs');
const net = require('node:net');

const gate = process.env.TEST_LISTEN_GATE;
if (gate) {
  const listen = net.Server.prototype.listen;
  net.Server.prototype.listen = function gatedListen(...args) {
    writeSync(2, 'listen-gate: holding start-up\n');
    const cell = new Int32Array(new SharedArrayBuffer(4));
    const deadline = Date.now() + 10_000;
    while (!existsSync(gate) && Date.now() < deadline) Atomics.wait(cell, 0, 0, 10);
    return listen.apply(this, args);
  };
}
