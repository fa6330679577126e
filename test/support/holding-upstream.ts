import type { IncomingMessage, ServerResponse } from 'node:http';

/** One request as a holding upstream received it. */
export interface Arrival {
  req: IncomingMessage;
  res: ServerResponse;
  /** Resolves once at least `bytes` of the request body have arrived. */
  received(bytes: number): Promise<void>;
  bytes(): number;
  /** Resolves when the upstream's response closes: the connection went away or it was answered. */
  closed: Promise<{ responseFinished: boolean; requestComplete: boolean }>;
}

/**
 * An upstream handler that reads request bodies, answers only when `respond` does (never, by
 * default), and hands each request to the test in arrival order (`next`).
 */
export function holdingUpstream(respond: (req: IncomingMessage, res: ServerResponse) => void = () => undefined): {
  handler: (req: IncomingMessage, res: ServerResponse) => void;
  next(): Promise<Arrival>;
} {
  const arrived: Arrival[] = [];
  const waiting: Array<(arrival: Arrival) => void> = [];
  const handler = (req: IncomingMessage, res: ServerResponse): void => {
    let bytes = 0;
    const watchers: Array<{ bytes: number; resolve: () => void }> = [];
    req.on('data', (chunk: Buffer) => {
      bytes += chunk.length;
      for (const watcher of watchers.filter((w) => bytes >= w.bytes)) {
        watchers.splice(watchers.indexOf(watcher), 1);
        watcher.resolve();
      }
    });
    const arrival: Arrival = {
      req,
      res,
      bytes: () => bytes,
      received: (wanted) => (bytes >= wanted ? Promise.resolve() : new Promise<void>((resolve) => watchers.push({ bytes: wanted, resolve }))),
      closed: new Promise((resolve) => res.once('close', () => resolve({ responseFinished: res.writableFinished, requestComplete: req.complete }))),
    };
    respond(req, res);
    const waiter = waiting.shift();
    if (waiter) waiter(arrival);
    else arrived.push(arrival);
  };
  return {
    handler,
    next: () => {
      const arrival = arrived.shift();
      return arrival ? Promise.resolve(arrival) : new Promise((resolve) => waiting.push(resolve));
    },
  };
}
