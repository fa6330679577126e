/** One base URL of an upstream, with the live figures its balancer reads. */
export class UpstreamTarget {
  readonly origin: string;
  /** The URL's path without a trailing slash ('' for none), prepended to every request path. */
  readonly basePath: string;
  inFlight = 0;
  healthy = true;

  constructor(readonly url: string) {
    const parsed = new URL(url);
    this.origin = parsed.origin;
    this.basePath = parsed.pathname.replace(/\/+$/, '');
  }
}
