import type { GatewayProcess } from './gateway-process';

/*
 * Memory and handle figures of a gateway process started with gc-on-signal.js preloaded
 * (NODE_OPTIONS=--require): what it really holds after full GCs, not garbage not yet collected.
 */

const sleep = (ms: number): Promise<void> => new Promise((done) => setTimeout(done, ms));

/** Polls `read` until `ok` holds or `timeoutMs` passes; returns the last value either way, for the assertion to show. */
export async function settled<T>(read: () => Promise<T>, ok: (value: T) => boolean, timeoutMs = 5000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let value = await read();
  while (!ok(value) && Date.now() < deadline) {
    await sleep(100);
    value = await read();
  }
  return value;
}

/** Signals a full GC (gc-on-signal.js) and reads its "gc-stats" line: every live timer, and the ref'd handles. */
export async function gcStats(gateway: GatewayProcess): Promise<{ timers: number; handles: number; youngBytes: number }> {
  const round = (gateway.stderr().match(/^gc-done /gm)?.length ?? 0) + 1;
  const line = new RegExp(`^gc-stats ${round} timers=(\\d+) refTimers=\\d+ handles=(\\d+) young=(\\d+) .*\\ngc-done ${round}\\n`, 'm');
  gateway.child.kill('SIGUSR2');
  const match = await settled(async () => line.exec(gateway.stderr()), (m) => m !== null, 10_000);
  if (match === null) throw new Error(`no "gc-stats ${round}" line on the gateway's stderr`);
  return { timers: Number(match[1]), handles: Number(match[2]), youngBytes: Number(match[3]) };
}

/** Resident size after full GCs, read once it stops falling (the least of the samples taken), in MiB to one decimal. */
export async function restingRssMiB(gateway: GatewayProcess): Promise<number> {
  return (await restingMemory(gateway)).rssMiB;
}

/** The resting resident size, and how much of it is the young generation's committed space, in MiB. */
export async function restingMemory(gateway: GatewayProcess): Promise<{ rssMiB: number; youngMiB: number }> {
  const { youngBytes } = await gcStats(gateway);
  let rss = gateway.rssBytes();
  for (let steady = 0, i = 0; steady < 3 && i < 30; i++) {
    await sleep(100);
    const now = gateway.rssBytes();
    steady = now >= rss - 2 ** 18 ? steady + 1 : 0;
    rss = Math.min(rss, now);
  }
  return { rssMiB: mib(rss), youngMiB: mib(youngBytes) };
}

export const mib = (bytes: number): number => Math.round((bytes / 2 ** 20) * 10) / 10;
