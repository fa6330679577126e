import type { CounterChild, FastCounter, FastHistogram, HistogramChild } from './fast-metrics';

/** The `method` label of gateway_requests_total: these names, anything else OTHER. */
const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'TRACE', 'QUERY', 'OTHER'];
const METHOD_INDEX = new Map(METHODS.slice(0, -1).map((name, i) => [name, i]));
/** The `status_class` label: 0xx to 5xx by the status's hundreds, anything else other. */
const STATUS_CLASSES = ['0xx', '1xx', '2xx', '3xx', '4xx', '5xx', 'other'];

/** The request metrics RouteMeters counts into (GatewayMetrics's). */
export interface RouteMeterSources {
  readonly requests: FastCounter<'route' | 'method' | 'status_class' | 'code'>;
  readonly requestDuration: FastHistogram<'route'>;
  readonly requestBytes: FastCounter<'route'>;
  readonly responseBytes: FastCounter<'route'>;
}

/**
 * One route's request metrics, resolved once per route: a request adds to them without building
 * a label key. The answered-request counters (no gateway error code) are kept by method and
 * status class; a request the gateway answered with an error code looks its counter up by labels.
 */
export class RouteMeters {
  readonly duration: HistogramChild;
  readonly requestBytes: CounterChild;
  readonly responseBytes: CounterChild;
  private readonly answered: (CounterChild | undefined)[] = new Array(METHODS.length * STATUS_CLASSES.length);

  constructor(
    private readonly sources: RouteMeterSources,
    private readonly route: string,
  ) {
    this.duration = sources.requestDuration.child(route);
    this.requestBytes = sources.requestBytes.child(route);
    this.responseBytes = sources.responseBytes.child(route);
  }

  /** Counts one request in gateway_requests_total. */
  countRequest(method: string | undefined, status: number, code: string | null): void {
    const m = (method === undefined ? undefined : METHOD_INDEX.get(method)) ?? METHODS.length - 1;
    const hundreds = Math.floor(status / 100);
    const c = hundreds >= 0 && hundreds <= 5 ? hundreds : STATUS_CLASSES.length - 1;
    if (code !== null) {
      this.sources.requests.child(this.route, METHODS[m], STATUS_CLASSES[c], code).value++;
      return;
    }
    const at = m * STATUS_CLASSES.length + c;
    (this.answered[at] ??= this.sources.requests.child(this.route, METHODS[m], STATUS_CLASSES[c], '')).value++;
  }
}
