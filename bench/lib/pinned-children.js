'use strict';
const { spawn } = require('node:child_process');

/**
 * Child processes of a bench script, each pinned to a core with taskset and run in `cwd`; every
 * one still running is killed when the script exits, however it exits.
 */
function pinnedChildren(node, cwd) {
  const children = new Set();
  process.on('exit', () => {
    for (const child of children) child.kill('SIGKILL');
  });
  /** Starts `node <args>` on `core`; its stdout is piped (for waitFor), its stderr inherited. */
  const start = (core, args, env = process.env) => {
    const child = spawn('taskset', ['-c', String(core), node, ...args], { env, cwd, stdio: ['ignore', 'pipe', 'inherit'] });
    children.add(child);
    child.once('exit', () => children.delete(child));
    return child;
  };
  return { start };
}

/** Resolves with the first match of `pattern` in the child's stdout; rejects if it exits first. */
function waitFor(child, pattern) {
  return new Promise((done, fail) => {
    let out = '';
    child.stdout.on('data', (chunk) => {
      out += chunk;
      const match = pattern.exec(out);
      if (match) done(match);
    });
    child.once('exit', (code) => fail(new Error(`exited (${code}) before ${pattern}: ${out.slice(-500)}`)));
  });
}

module.exports = { pinnedChildren, waitFor };
