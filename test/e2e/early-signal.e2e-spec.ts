import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { startUpstream, type UpstreamFixture } from '../support/upstream-fixture';
import { GATEWAY_MAIN_JS } from '../support/gateway-process';

/*
 * docs/operations.md "Running in production": SIGTERM stops the gateway cleanly (exit 0), also when it arrives during
 * start-up or the moment the "gateway listening" line appears, which is when a supervisor or
 * a test sends it. Node's default for a signal nobody handles is death by that signal.
 */

const LISTEN_GATE = resolve(__dirname, '../support/listen-gate.js');

let upstream: UpstreamFixture;
let dir: string;

beforeAll(async () => {
  upstream = await startUpstream();
  dir = await mkdtemp(join(tmpdir(), 'gateway-signal-'));
  await writeFile(join(dir, 'gateway.json'), JSON.stringify({ upstreams: { u: { targets: [upstream.url] } }, routes: [{ id: 'r', path: '/r', upstream: 'u' }] }));
});

afterAll(async () => {
  await upstream.close();
  await rm(dir, { recursive: true, force: true });
});

interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
}

/** Starts dist/main.js; when `marker` appears on stdout or stderr, runs `onMarker(pid)`; resolves with the exit (killed after 15 s). */
function runUntilExit(env: Record<string, string>, marker: string, onMarker: (pid: number) => Promise<void> | void): Promise<Exit> {
  const child = spawn(process.execPath, [GATEWAY_MAIN_JS], {
    cwd: dir,
    env: { PATH: process.env.PATH ?? '', GATEWAY_CONFIG: join(dir, 'gateway.json'), GATEWAY_HOST: '127.0.0.1', GATEWAY_PORT: '0', LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let seen = '';
  let fired = false;
  const watch = (chunk: string): void => {
    seen += chunk;
    if (!fired && seen.includes(marker)) {
      fired = true;
      void onMarker(child.pid!);
    }
  };
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => ((stdout += chunk), watch(chunk)));
  child.stderr.setEncoding('utf8').on('data', watch);
  const killer = setTimeout(() => child.kill('SIGKILL'), 15_000);
  return new Promise((resolveExit) =>
    child.once('close', (code, signal) => {
      clearTimeout(killer);
      resolveExit({ code, signal, stdout });
    }),
  );
}

describe('a signal early in the gateway’s life', () => {
  it('SIGTERM while start-up is under way (held inside listen()): the gateway finishes starting, stops cleanly and exits 0', async () => {
    const gate = join(dir, `gate-${Date.now()}`);
    const exit = await runUntilExit({ NODE_OPTIONS: `--require ${LISTEN_GATE}`, TEST_LISTEN_GATE: gate }, 'listen-gate: holding start-up', async (pid) => {
      process.kill(pid, 'SIGTERM');
      // Only once the signal is sent is start-up let go on.
      await writeFile(gate, '');
    });
    expect({ code: exit.code, signal: exit.signal }).toEqual({ code: 0, signal: null });
    expect(exit.stdout).toContain('"msg":"shutting down"');
  }, 30_000);

  it('SIGTERM sent the moment "gateway listening" appears, five times over: exit 0 every time', async () => {
    const exits: Array<{ code: number | null; signal: NodeJS.Signals | null }> = [];
    for (let i = 0; i < 5; i++) {
      const exit = await runUntilExit({}, '"msg":"gateway listening"', (pid) => {
        process.kill(pid, 'SIGTERM');
      });
      exits.push({ code: exit.code, signal: exit.signal });
    }
    expect(exits).toEqual(Array.from({ length: 5 }, () => ({ code: 0, signal: null })));
  }, 60_000);
});
