'use strict';
/*
 * `prestart`: builds (`npm run build`) only when dist/main.js is missing or older than anything
 * under src/ (a file, or a directory whose entries changed, e.g. a deleted file) or the
 * tsconfig files. Without src/ (a pruned production copy) it only checks that dist/main.js exists.
 */
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const ROOT = path.resolve(__dirname, '..');
const MAIN = path.join(ROOT, 'dist', 'main.js');
const SRC = path.join(ROOT, 'src');
const BUILD_INPUTS = ['tsconfig.json', 'tsconfig.build.json'];

function mtimeMs(file) {
  try {
    return fs.statSync(file).mtimeMs;
  } catch {
    return null;
  }
}

/** The newest mtime under `dir`, directories included, and the path that has it. */
function newest(dir) {
  let best = { mtimeMs: fs.statSync(dir).mtimeMs, file: dir };
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    const candidate = entry.isDirectory() ? newest(full) : { mtimeMs: fs.statSync(full).mtimeMs, file: full };
    if (candidate.mtimeMs > best.mtimeMs) best = candidate;
  }
  return best;
}

function staleReason() {
  const built = mtimeMs(MAIN);
  if (built === null) return 'dist/main.js is missing';
  if (!fs.existsSync(SRC)) return null;
  const inputs = [newest(SRC)];
  for (const name of BUILD_INPUTS) {
    const time = mtimeMs(path.join(ROOT, name));
    if (time !== null) inputs.push({ mtimeMs: time, file: path.join(ROOT, name) });
  }
  const latest = inputs.reduce((a, b) => (b.mtimeMs > a.mtimeMs ? b : a));
  return latest.mtimeMs > built ? `${path.relative(ROOT, latest.file)} is newer than dist/main.js` : null;
}

function runBuild() {
  // Under npm, npm_execpath is npm's own CLI: run it with this Node, no shell needed.
  const npmCli = process.env.npm_execpath;
  const result = npmCli
    ? spawnSync(process.execPath, [npmCli, 'run', 'build'], { cwd: ROOT, stdio: 'inherit' })
    : spawnSync(process.platform === 'win32' ? 'npm.cmd' : 'npm', ['run', 'build'], {
        cwd: ROOT,
        stdio: 'inherit',
        shell: process.platform === 'win32',
      });
  if (result.error) {
    process.stderr.write(`build-if-needed: could not run the build: ${result.error.message}\n`);
    return 1;
  }
  return result.status ?? 1;
}

const reason = staleReason();
if (reason === null) process.exit(0);
if (!fs.existsSync(SRC)) {
  process.stderr.write(`build-if-needed: ${reason} and there is no src/ to build it from\n`);
  process.exit(1);
}
process.stdout.write(`build-if-needed: ${reason}; running npm run build\n`);
const status = runBuild();
if (status !== 0) {
  process.stderr.write('build-if-needed: the build failed; fix the errors above and run npm start again\n');
  process.exit(status);
}
