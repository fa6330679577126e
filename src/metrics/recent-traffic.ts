/** How far back the live figures look: ten one-second slots. */
const SLOTS = 10;
/** Latency buckets grow by a fifth from 50 µs, so a percentile is within 10% of the truth up to ~2 min. */
const FIRST_BUCKET_MS = 0.05;
const GROWTH = 1.2;
const BUCKETS = 82;
const LOG_GROWTH = Math.log(GROWTH);

export interface RecentSummary {
  readonly requestsPerSecond: number;
  /** Null when nothing was recorded in the window. */
  readonly p50Ms: number | null;
  readonly p99Ms: number | null;
}

/**
 * Requests per second and latency percentiles over the last ten seconds, without a timer: each
 * slot remembers which second it holds and is cleared when a newer second reuses it. Recording
 * costs one logarithm and two array writes.
 */
export class RecentTraffic {
  private readonly seconds = new Float64Array(SLOTS).fill(-1);
  private readonly counts = new Uint32Array(SLOTS);
  private readonly latency = new Uint32Array(SLOTS * BUCKETS);

  record(nowMs: number, latencyMs: number): void {
    const second = Math.floor(nowMs / 1000);
    const slot = second % SLOTS;
    if (this.seconds[slot] !== second) {
      this.seconds[slot] = second;
      this.counts[slot] = 0;
      this.latency.fill(0, slot * BUCKETS, (slot + 1) * BUCKETS);
    }
    this.counts[slot]++;
    this.latency[slot * BUCKETS + bucketOf(latencyMs)]++;
  }

  summary(nowMs: number): RecentSummary {
    const now = Math.floor(nowMs / 1000);
    const merged = new Uint32Array(BUCKETS);
    let total = 0;
    for (let slot = 0; slot < SLOTS; slot++) {
      const second = this.seconds[slot];
      if (second < 0 || second <= now - SLOTS || second > now) continue;
      total += this.counts[slot];
      for (let b = 0; b < BUCKETS; b++) merged[b] += this.latency[slot * BUCKETS + b];
    }
    return { requestsPerSecond: total / SLOTS, p50Ms: percentile(merged, total, 0.5), p99Ms: percentile(merged, total, 0.99) };
  }
}

function bucketOf(latencyMs: number): number {
  if (!(latencyMs > FIRST_BUCKET_MS)) return 0;
  return Math.min(BUCKETS - 1, Math.ceil(Math.log(latencyMs / FIRST_BUCKET_MS) / LOG_GROWTH));
}

/** The bucket's geometric middle: half a bucket's error either way. */
function percentile(buckets: Uint32Array, total: number, q: number): number | null {
  if (total === 0) return null;
  const rank = Math.ceil(total * q);
  let seen = 0;
  for (let b = 0; b < BUCKETS; b++) {
    seen += buckets[b];
    if (seen >= rank) return b === 0 ? FIRST_BUCKET_MS : round(FIRST_BUCKET_MS * GROWTH ** (b - 0.5));
  }
  return null;
}

function round(ms: number): number {
  return Math.round(ms * 100) / 100;
}
