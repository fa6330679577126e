import { createHash } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { readFileSync } from 'node:fs';
import { connect, type AddressInfo, type Socket } from 'node:net';

export interface RecordedRequest {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  rawHeaders: string[];
}

export interface UpstreamFixture {
  readonly url: string;
  readonly port: number;
  /** Every request the fixture received, in arrival order (recorded before the handler runs). */
  readonly requests: RecordedRequest[];
  readonly server: Server;
  close(): Promise<void>;
}

export type FixtureHandler = (req: IncomingMessage, res: ServerResponse) => void;

/** A real node:http upstream on 127.0.0.1 and an ephemeral port. */
export async function startUpstream(handler: FixtureHandler = echoHandler): Promise<UpstreamFixture> {
  const requests: RecordedRequest[] = [];
  const sockets = new Set<Socket>();
  const server = createServer((req, res) => {
    requests.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, rawHeaders: req.rawHeaders });
    handler(req, res);
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    requests,
    server,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

export interface EchoBody {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  bytes: number;
  sha256: string;
}

/** Answers 200 with JSON describing the request it got, including its body's size and sha256. */
export function echoHandler(req: IncomingMessage, res: ServerResponse): void {
  const hash = createHash('sha256');
  let bytes = 0;
  req.on('data', (chunk: Buffer) => {
    bytes += chunk.length;
    hash.update(chunk);
  });
  req.on('end', () => {
    const body: EchoBody = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, bytes, sha256: hash.digest('hex') };
    res.writeHead(200, { 'content-type': 'application/json', 'x-upstream': 'echo' });
    res.end(JSON.stringify(body));
  });
}

/**
 * A port on 127.0.0.1 that refuses connections and stays closed: one below the kernel's
 * ephemeral range, which no server listening on port 0 (every fixture and gateway here) and no
 * outgoing connection is given. A port bound on 0 and released could go to the next server
 * started, the gateway under test included, which would then proxy to itself.
 */
export async function closedPort(): Promise<number> {
  const low = ephemeralRangeLow();
  for (let attempt = 0; attempt < 100; attempt++) {
    const port = 1024 + Math.floor(Math.random() * (low - 1024));
    if (await refusesConnections(port)) return port;
  }
  throw new Error(`no port between 1024 and ${low} refuses connections on 127.0.0.1`);
}

function ephemeralRangeLow(): number {
  try {
    const low = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]);
    if (Number.isInteger(low) && low > 2048) return low;
  } catch {
    // Not Linux: the IANA dynamic range starts at 49152.
  }
  return 49152;
}

function refusesConnections(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code === 'ECONNREFUSED'));
  });
}
