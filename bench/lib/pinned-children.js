'use strict';
const { execFile, spawn } = require('node:child_process');

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
    const onData = (chunk) => {
      out += chunk;
      const match = pattern.exec(out);
      if (!match) return;
      // Stop collecting: what comes later (access lines) is the caller's to read or drop.
      child.stdout.off('data', onData);
      child.off('exit', onExit);
      done(match);
    };
    const onExit = (code) => fail(new Error(`exited (${code}) before ${pattern}: ${out.slice(-500)}`));
    child.stdout.on('data', onData);
    child.once('exit', onExit);
  });
}

/**
 * Runs autocannon (`-j`) on `core` and resolves with its JSON result. Asynchronous on purpose: a
 * script that blocked here would stop reading the gateway's stdout, the pipe would fill, and
 * the access lines would pile up in the gateway's memory instead of being written as in production.
 */
function autocannonOnCore(node, core, args) {
  const autocannon = require.resolve('autocannon/autocannon.js');
  return new Promise((done, fail) => {
    execFile('taskset', ['-c', String(core), node, autocannon, '-j', ...args], { maxBuffer: 1e8 }, (error, stdout) => {
      if (error) fail(error);
      else done(JSON.parse(stdout));
    });
  });
}

module.exports = { autocannonOnCore, pinnedChildren, waitFor };
