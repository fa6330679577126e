import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { ENVIRONMENT_VARIABLES } from '../../src/config/environment';
import { assertSchemaAccepts } from './config-schema';

/** The built gateway (`npm test` builds it before jest runs). */
export const GATEWAY_MAIN_JS = resolve(__dirname, '../../dist/main.js');

/**
 * The test process's environment without the variables the gateway reads (docs/configuration.md
 * "Environment variables") or NODE_ENV, so every child starts from a known environment; then `extra`.
 */
export function gatewayChildEnv(extra: Record<string, string> = {}): Record<string, string> {
  const excluded = new Set([...ENVIRONMENT_VARIABLES, 'NODE_ENV']);
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(process.env)) if (value !== undefined && !excluded.has(key)) env[key] = value;
  return Object.assign(env, extra);
}

const DEFAULT_START_TIMEOUT_MS = 15_000;
const DEFAULT_EXIT_TIMEOUT_MS = 15_000;

export interface GatewayProcessOptions {
  /**
   * The config file's content, written to a fresh directory under os.tmpdir(): a string is
   * written as-is (YAML), anything else as JSON. GATEWAY_CONFIG points at it unless `env` says
   * otherwise. Omit it to write no file.
   */
  config?: unknown;
  /** File name of the config in the temp directory; default gateway.yaml (string) or gateway.json. */
  configFileName?: string;
  /**
   * Environment on top of the defaults (GATEWAY_HOST=127.0.0.1, GATEWAY_PORT=0, LOG_LEVEL=info,
   * GATEWAY_CONFIG=<the temp file>). A variable set to undefined is removed. The gateway's own
   * variables and NODE_ENV are not inherited from the test process.
   */
  env?: Record<string, string | undefined>;
  /** Working directory of the child; default: the temp directory (so no stray .env is read). */
  cwd?: string;
  /** The script to run; default the built gateway (dist/main.js). A team's own entry point, for instance. */
  script?: string;
}

export interface StartGatewayProcessOptions extends GatewayProcessOptions {
  /** How long to wait for the "gateway listening" line; default 15 s. */
  startTimeoutMs?: number;
}

export interface RunGatewayProcessOptions extends GatewayProcessOptions {
  /** How long the process may run before it is killed and the run rejects; default 15 s. */
  exitTimeoutMs?: number;
}

export interface ProcessExit {
  /** Exit code, or null when the process was ended by a signal. */
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface GatewayProcess {
  readonly pid: number;
  readonly port: number;
  /** http://127.0.0.1:<port> */
  readonly url: string;
  /** The temp directory holding the config file (removed when the process is stopped). */
  readonly dir: string;
  readonly configPath: string | null;
  readonly child: ChildProcess;
  /** Everything written on stdout / stderr so far. */
  stdout(): string;
  stderr(): string;
  /** stdout parsed as JSON log lines (lines that are not JSON are skipped). */
  logLines(): Record<string, unknown>[];
  /** Resident set size of the gateway process now, in bytes (VmRSS from /proc/<pid>/status). */
  rssBytes(): number;
  /** Resolves when the process has exited and its output is closed. */
  readonly exited: Promise<ProcessExit>;
  /** Sends `signal` (SIGTERM by default) and waits for the exit; rejects (after SIGKILL) if it does not exit within the bound. */
  stop(signal?: NodeJS.Signals, timeoutMs?: number): Promise<ProcessExit>;
  /** Cleanup for afterAll/finally: SIGKILL if still running, wait for the exit, remove the temp directory. Never rejects. */
  kill(): Promise<void>;
}

interface SpawnedGateway {
  child: ChildProcess;
  dir: string;
  configPath: string | null;
  output: { stdout: string; stderr: string };
  exited: Promise<ProcessExit>;
}

/** Writes `config` to a new directory under os.tmpdir() and returns its path. */
export async function writeTempConfig(config: unknown, fileName?: string, dir?: string): Promise<string> {
  const target = dir ?? (await makeTempDir());
  const name = fileName ?? (typeof config === 'string' ? 'gateway.yaml' : 'gateway.json');
  const path = join(target, name);
  await writeFile(path, typeof config === 'string' ? config : JSON.stringify(config, null, 2));
  return path;
}

export function makeTempDir(): Promise<string> {
  return mkdtemp(join(tmpdir(), 'gateway-e2e-'));
}

async function spawnGateway(options: GatewayProcessOptions): Promise<SpawnedGateway> {
  const dir = await makeTempDir();
  const configPath = options.config === undefined ? null : await writeTempConfig(options.config, options.configFileName, dir);
  const env = gatewayChildEnv();
  const defaults: Record<string, string> = { GATEWAY_HOST: '127.0.0.1', GATEWAY_PORT: '0', LOG_LEVEL: 'info' };
  if (configPath !== null) defaults.GATEWAY_CONFIG = configPath;
  for (const [key, value] of Object.entries({ ...defaults, ...options.env })) {
    if (value === undefined) delete env[key];
    else env[key] = value;
  }

  const child = spawn(process.execPath, [options.script ?? GATEWAY_MAIN_JS], { cwd: options.cwd ?? dir, env, stdio: ['ignore', 'pipe', 'pipe'] });
  const output = { stdout: '', stderr: '' };
  child.stdout!.setEncoding('utf8');
  child.stderr!.setEncoding('utf8');
  child.stdout!.on('data', (chunk: string) => (output.stdout += chunk));
  child.stderr!.on('data', (chunk: string) => (output.stderr += chunk));
  const exited = new Promise<ProcessExit>((resolveExit, rejectExit) => {
    child.once('error', rejectExit);
    // 'close' (not 'exit') so that all of stdout and stderr has been read.
    child.once('close', (code, signal) => resolveExit({ code, signal, stdout: output.stdout, stderr: output.stderr }));
  });
  // Avoid an unhandled rejection when nobody awaits `exited` (e.g. spawn failure seen elsewhere).
  exited.catch(() => undefined);
  return { child, dir, configPath, output, exited };
}

/**
 * Starts `node dist/main.js` as a child process and resolves once its "gateway listening" log
 * line arrives. Rejects (and kills the child) if the process exits first or no such line
 * arrives within `startTimeoutMs`. LOG_LEVEL must stay at info or debug for the line to appear.
 */
export async function startGatewayProcess(options: StartGatewayProcessOptions = {}): Promise<GatewayProcess> {
  const spawned = await spawnGateway(options);
  const { child, output, exited, dir, configPath } = spawned;
  const startTimeoutMs = options.startTimeoutMs ?? DEFAULT_START_TIMEOUT_MS;

  let port: number;
  try {
    port = await waitForListening(spawned, startTimeoutMs);
  } catch (error) {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await exited.catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
    throw error;
  }

  const pid = child.pid!;
  const running = (): boolean => child.exitCode === null && child.signalCode === null;
  const cleanup = (): Promise<void> => rm(dir, { recursive: true, force: true });
  const startedWith = startedConfigPath(configPath, options.env, options.cwd ?? dir);
  if (startedWith !== null) {
    try {
      assertSchemaAccepts(readFileSync(startedWith, 'utf8'), startedWith);
    } catch (error) {
      child.kill('SIGKILL');
      await exited.catch(() => undefined);
      await cleanup();
      throw error;
    }
  }

  return {
    pid,
    port,
    url: `http://127.0.0.1:${port}`,
    dir,
    configPath,
    child,
    exited,
    stdout: () => output.stdout,
    stderr: () => output.stderr,
    logLines: () => parseLogLines(output.stdout),
    rssBytes: () => readRssBytes(pid),
    async stop(signal: NodeJS.Signals = 'SIGTERM', timeoutMs = DEFAULT_EXIT_TIMEOUT_MS): Promise<ProcessExit> {
      if (running()) child.kill(signal);
      try {
        return await withTimeout(exited, timeoutMs, () => {
          child.kill('SIGKILL');
          return new Error(`gateway pid ${pid} did not exit within ${timeoutMs} ms of ${signal}; killed it.\n${describeOutput(output)}`);
        });
      } finally {
        await cleanup();
      }
    },
    async kill(): Promise<void> {
      if (running()) child.kill('SIGKILL');
      await exited.catch(() => undefined);
      await cleanup();
    },
  };
}

/** The config file a started gateway read: GATEWAY_CONFIG as given (relative to the temp dir), else the file written for it. */
function startedConfigPath(written: string | null, env: GatewayProcessOptions['env'], cwd: string): string | null {
  if (env !== undefined && 'GATEWAY_CONFIG' in env) return env.GATEWAY_CONFIG === undefined ? null : resolve(cwd, env.GATEWAY_CONFIG);
  return written;
}

/** Runs `node dist/main.js` until it exits on its own (bounded) and returns its exit code and output. */
export async function runGatewayProcess(options: RunGatewayProcessOptions = {}): Promise<ProcessExit> {
  const { child, exited, dir, output } = await spawnGateway(options);
  const timeoutMs = options.exitTimeoutMs ?? DEFAULT_EXIT_TIMEOUT_MS;
  try {
    return await withTimeout(exited, timeoutMs, () => {
      child.kill('SIGKILL');
      return new Error(`gateway did not exit on its own within ${timeoutMs} ms; killed it.\n${describeOutput(output)}`);
    });
  } finally {
    await exited.catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
  }
}

/** VmRSS of a live process, in bytes. */
export function readRssBytes(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const match = /^VmRSS:\s+(\d+)\s+kB$/m.exec(status);
  if (!match) throw new Error(`no VmRSS line in /proc/${pid}/status (has the process exited?)`);
  return Number(match[1]) * 1024;
}

export function parseLogLines(stdout: string): Record<string, unknown>[] {
  const lines: Record<string, unknown>[] = [];
  for (const line of stdout.split('\n')) {
    if (!line.startsWith('{')) continue;
    try {
      const parsed: unknown = JSON.parse(line);
      if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)) lines.push(parsed as Record<string, unknown>);
    } catch {
      // a partial or non-JSON line: not a log line
    }
  }
  return lines;
}

/**
 * Resolves with the log lines on `gateway`'s stdout that match `predicate`, once there are at
 * least `count` of them: checked at once and on every stdout chunk, never by polling. Rejects
 * when the process exits first or after `timeoutMs`, saying `what` it waited for.
 */
export function waitForLogLines(
  gateway: GatewayProcess,
  predicate: (line: Record<string, unknown>) => boolean,
  count: number,
  what: string,
  timeoutMs: number,
): Promise<Record<string, unknown>[]> {
  const stdout = gateway.child.stdout!;
  return new Promise((resolveLines, rejectLines) => {
    let settled = false;
    const finish = (settle: () => void): void => {
      settled = true;
      clearTimeout(timer);
      stdout.off('data', check);
      settle();
    };
    const found = (): Record<string, unknown>[] => gateway.logLines().filter(predicate);
    // Registered after the collector in spawnGateway, so gateway.stdout() already holds the chunk.
    const check = (): void => {
      const lines = found();
      if (lines.length >= count) finish(() => resolveLines(lines));
    };
    const timer = setTimeout(
      () => finish(() => rejectLines(new Error(`timed out after ${timeoutMs} ms waiting for ${what}: have ${found().length} of ${count}`))),
      timeoutMs,
    );
    stdout.on('data', check);
    gateway.exited.then(
      (exit) => {
        if (!settled) finish(() => rejectLines(new Error(`gateway exited (code ${exit.code}, signal ${exit.signal}) while waiting for ${what}`)));
      },
      () => undefined,
    );
    check();
  });
}

function waitForListening({ child, output, exited }: SpawnedGateway, timeoutMs: number): Promise<number> {
  return new Promise<number>((resolvePort, rejectPort) => {
    let scanned = 0;
    const finish = (settle: () => void): void => {
      clearTimeout(timer);
      child.stdout!.off('data', onData);
      settle();
    };
    const onData = (): void => {
      const end = output.stdout.lastIndexOf('\n');
      if (end < scanned) return;
      const complete = output.stdout.slice(scanned, end + 1);
      scanned = end + 1;
      for (const line of parseLogLines(complete)) {
        if (line.msg === 'gateway listening' && typeof line.port === 'number' && line.port > 0) {
          const port = line.port;
          finish(() => resolvePort(port));
          return;
        }
      }
    };
    const timer = setTimeout(() => {
      finish(() =>
        rejectPort(new Error(`gateway pid ${child.pid} logged no "gateway listening" line within ${timeoutMs} ms.\n${describeOutput(output)}`)),
      );
    }, timeoutMs);
    // Registered after the collector in spawnGateway, so output.stdout already holds the chunk.
    child.stdout!.on('data', onData);
    exited.then(
      (exit) =>
        finish(() =>
          rejectPort(
            new Error(`gateway exited (code ${exit.code}, signal ${exit.signal}) before listening.\n${describeOutput(output)}`),
          ),
        ),
      (error: unknown) => finish(() => rejectPort(error instanceof Error ? error : new Error(String(error)))),
    );
    onData();
  });
}

function withTimeout<T>(promise: Promise<T>, timeoutMs: number, onTimeout: () => Error): Promise<T> {
  return new Promise<T>((resolveValue, rejectValue) => {
    const timer = setTimeout(() => rejectValue(onTimeout()), timeoutMs);
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolveValue(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        rejectValue(error);
      },
    );
  });
}

function describeOutput(output: { stdout: string; stderr: string }): string {
  const tail = (text: string): string => (text.length > 4000 ? `...${text.slice(-4000)}` : text);
  return `stdout:\n${tail(output.stdout)}\nstderr:\n${tail(output.stderr)}`;
}
