/** One sample of a Prometheus text exposition: its labels and value. */
export interface MetricSample {
  readonly labels: Record<string, string>;
  readonly value: number;
}

/** The samples of metric `name` in a Prometheus text scrape (labels without escapes, as the gateway's names are). */
export function samplesOf(text: string, name: string): MetricSample[] {
  const samples: MetricSample[] = [];
  for (const line of text.split('\n')) {
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const labels: Record<string, string> = {};
    for (const pair of (match[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="([^"]*)"/g)) labels[pair[1]] = pair[2];
    samples.push({ labels, value: Number(match[3]) });
  }
  return samples;
}

/** Resolves once `check` returns true, checking every `everyMs`; rejects after `timeoutMs`, naming `what`. */
export async function eventually(check: () => Promise<boolean> | boolean, what: string, timeoutMs = 5000, everyMs = 25): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}
