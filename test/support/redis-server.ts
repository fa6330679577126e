import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { closedPort } from './upstream-fixture';

const INSTALL_HINT =
  'redis-server is needed by the rate-limit tests and was not found on PATH or in /usr/bin, /usr/local/bin, /usr/sbin. ' +
  'Install it (Debian/Ubuntu: apt-get update && apt-get install -y redis-server; macOS: brew install redis); .ci/run does this on CI.';

/** The redis-server binary, or an error saying how to install it (the tests need it; they are never skipped). */
export function redisServerBinary(): string {
  const fromPath = spawnSync('sh', ['-c', 'command -v redis-server'], { encoding: 'utf8' }).stdout.trim();
  const found = [fromPath, '/usr/bin/redis-server', '/usr/local/bin/redis-server', '/usr/sbin/redis-server'].find((p) => p !== '' && existsSync(p));
  if (!found) throw new Error(INSTALL_HINT);
  return found;
}

export interface RedisFixture {
  readonly port: number;
  readonly url: string;
  /** Freezes the server (SIGSTOP): connections stay open but nothing is answered, as with a Redis stuck on a slow command. */
  pause(): void;
  /** Lets a paused server go on (SIGCONT). */
  resume(): void;
  /** Kills the server at once (SIGKILL), as a crash would. */
  kill(): Promise<void>;
  /** Starts it again on the same port (empty: nothing is persisted). */
  restart(): Promise<void>;
  /** Stops it for good. */
  close(): Promise<void>;
}

/** A real redis-server on 127.0.0.1 and a free port, with no persistence, owned by the test. */
export async function startRedis(): Promise<RedisFixture> {
  const binary = redisServerBinary();
  const port = await closedPort();
  let child: ChildProcess | null = null;

  const launch = (): Promise<void> =>
    new Promise((resolve, reject) => {
      const proc = spawn(binary, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--protected-mode', 'no'], {
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      child = proc;
      let output = '';
      const timer = setTimeout(() => {
        proc.kill('SIGKILL');
        reject(new Error(`redis-server did not start on port ${port} within 10 s:\n${output}`));
      }, 10_000);
      proc.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
        output += chunk;
        if (output.includes('Ready to accept connections')) {
          clearTimeout(timer);
          resolve();
        }
      });
      proc.stderr!.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
      proc.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`redis-server exited (${code}) before it was ready:\n${output}`));
      });
    });

  const stop = async (signal: NodeJS.Signals): Promise<void> => {
    const proc = child;
    child = null;
    if (proc === null || proc.exitCode !== null || proc.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
    proc.kill('SIGCONT');
    proc.kill(signal);
    await exited;
  };

  await launch();
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    pause: () => void child?.kill('SIGSTOP'),
    resume: () => void child?.kill('SIGCONT'),
    kill: () => stop('SIGKILL'),
    restart: launch,
    close: () => stop('SIGTERM'),
  };
}
