import { Counter, Histogram, type CounterConfiguration, type HistogramConfiguration } from 'prom-client';

/*
 * Hot-path metrics. prom-client hashes the label object and allocates on every inc()/observe();
 * at ~10k requests/s that was a measurable share of the gateway's CPU. These subclasses keep the
 * prom-client metric (name, help, type, registry, exposition format) but count into children
 * resolved once per label set, so a request costs one Map lookup and a few additions; the
 * values are handed to prom-client at scrape time by overriding get().
 */

type LabelValues = Record<string, string | number>;

export class CounterChild {
  value = 0;
  constructor(readonly labels: LabelValues) {}
}

export class FastCounter<T extends string> extends Counter<T> {
  private readonly children = new Map<string, CounterChild>();
  private readonly names: readonly T[];

  constructor(config: CounterConfiguration<T> & { labelNames: readonly T[] }) {
    super(config);
    this.names = config.labelNames;
  }

  /** The counter of one label set (values in labelNames order), created on first use. */
  child(...values: string[]): CounterChild {
    const key = keyOf(values);
    let child = this.children.get(key);
    if (!child) this.children.set(key, (child = new CounterChild(labelsOf(this.names, values))));
    return child;
  }

  override async get(): ReturnType<Counter<T>['get']> {
    const base = await super.get();
    const values = [...this.children.values()].map((c) => ({ labels: c.labels, value: c.value }));
    return { ...base, values: values as Awaited<ReturnType<Counter<T>['get']>>['values'] };
  }
}

export class HistogramChild {
  readonly counts: Float64Array;
  sum = 0;
  count = 0;

  constructor(
    readonly labels: LabelValues,
    private readonly bounds: readonly number[],
  ) {
    this.counts = new Float64Array(bounds.length);
  }

  observe(value: number): void {
    const bounds = this.bounds;
    for (let i = 0; i < bounds.length; i++) {
      if (value <= bounds[i]) {
        this.counts[i]++;
        break;
      }
    }
    this.sum += value;
    this.count++;
  }
}

export class FastHistogram<T extends string> extends Histogram<T> {
  private readonly children = new Map<string, HistogramChild>();
  private readonly names: readonly T[];
  private readonly bounds: readonly number[];
  private readonly metricName: string;
  private readonly helpText: string;

  constructor(config: HistogramConfiguration<T> & { labelNames: readonly T[]; buckets: number[] }) {
    super(config);
    this.metricName = config.name;
    this.helpText = config.help;
    this.names = config.labelNames;
    this.bounds = [...config.buckets].sort((a, b) => a - b);
  }

  child(...values: string[]): HistogramChild {
    const key = keyOf(values);
    let child = this.children.get(key);
    if (!child) this.children.set(key, (child = new HistogramChild(labelsOf(this.names, values), this.bounds)));
    return child;
  }

  override async get(): ReturnType<Histogram<T>['get']> {
    // Not super.get(): prom-client's Histogram.get() calls getForPromString(), overridden below.
    const metric = { name: this.metricName, help: this.helpText, type: 'histogram', aggregator: 'sum', values: this.samples() };
    return metric as unknown as Awaited<ReturnType<Histogram<T>['get']>>;
  }

  /** prom-client's registry prefers this method when a metric has it; Histogram does. */
  async getForPromString(): ReturnType<Histogram<T>['get']> {
    return this.get();
  }

  private samples(): Awaited<ReturnType<Histogram<T>['get']>>['values'] {
    const name = this.metricName;
    const out: Array<{ metricName: string; labels: LabelValues; value: number }> = [];
    for (const c of this.children.values()) {
      let cumulative = 0;
      this.bounds.forEach((bound, i) => {
        cumulative += c.counts[i];
        out.push({ metricName: `${name}_bucket`, labels: { ...c.labels, le: bound }, value: cumulative });
      });
      out.push({ metricName: `${name}_bucket`, labels: { ...c.labels, le: '+Inf' }, value: c.count });
      out.push({ metricName: `${name}_sum`, labels: c.labels, value: c.sum });
      out.push({ metricName: `${name}_count`, labels: c.labels, value: c.count });
    }
    return out as Awaited<ReturnType<Histogram<T>['get']>>['values'];
  }
}

/** The map key of a label set; a single value is its own key (no string built). */
function keyOf(values: readonly string[]): string {
  return values.length === 1 ? values[0] : values.join('\u0000');
}

function labelsOf(names: readonly string[], values: readonly string[]): LabelValues {
  const labels: LabelValues = {};
  names.forEach((name, i) => (labels[name] = values[i]));
  return labels;
}
