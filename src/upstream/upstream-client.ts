import type { IncomingHttpHeaders } from 'node:http';
import type { Readable, Writable } from 'node:stream';
import type { UpstreamSettings } from '../config/gateway-config.types';
import type { OnUpgraded } from './upgrade-handler';
import type { UpstreamTarget } from './upstream-target';
import type { CancelSignal } from '../timeout/cancel-signal';

export interface UpstreamRequest {
  readonly method: string;
  /** Path and query, already rewritten; the target's base path is prepended by the client. */
  readonly path: string;
  readonly headers: Record<string, string | string[]>;
  readonly body: Readable | null;
  /** Owned by the request: aborting it cancels the upstream call at once. */
  readonly signal: CancelSignal;
}

export interface UpstreamResponseHead {
  readonly statusCode: number;
  readonly headers: IncomingHttpHeaders;
}

/** What one attempt got done before it ended; the retry policy reads it. */
export interface AttemptProgress {
  /** Some byte of the request reached the upstream's socket: the upstream may have seen it. */
  requestWritten: boolean;
}

/** Called once response headers arrive; returns where the body is to be written (with backpressure). */
export type ResponseSinkFactory = (head: UpstreamResponseHead) => Writable;

/** One upstream's HTTP client: its targets, their connection pools, and target choice. */
export interface UpstreamClient {
  readonly settings: UpstreamSettings;
  readonly targets: readonly UpstreamTarget[];
  /** The healthy target for the next attempt (`avoid` skipped when another exists), or null when none is healthy. */
  pickTarget(avoid?: UpstreamTarget): UpstreamTarget | null;
  /**
   * Streams the request to `target` and the response into the sink; rejects on any failure or
   * at once when the request's signal aborts, and records in `progress` how far it got.
   */
  forward(target: UpstreamTarget, request: UpstreamRequest, sink: ResponseSinkFactory, progress: AttemptProgress): Promise<void>;
  /**
   * The handshake of an upgrade (WebSocket): `onUpgraded` gets the upstream's 101 and its socket;
   * any other answer streams into the sink. Resolves once either is done.
   */
  upgrade(target: UpstreamTarget, request: UpstreamRequest & { readonly protocol: string }, sink: ResponseSinkFactory, onUpgraded: OnUpgraded): Promise<void>;
  /** A request will use this client until it ends (see RouteBinding). */
  lease(): void;
  release(): void;
  /** A reload replaced or removed the upstream: close once the last leased request has ended. */
  retire(): Promise<void>;
  close(): Promise<void>;
}
