import { ServerResponse, type IncomingMessage, type Server } from 'node:http';
import type { Duplex } from 'node:stream';

/** What Node hands over with an upgrade request: the raw socket and the bytes read past the head. */
export interface PendingUpgrade {
  readonly socket: Duplex;
  readonly head: Buffer;
}

const PENDING = new WeakMap<IncomingMessage, PendingUpgrade>();

/** How long a client may keep its side of a refused upgrade open after the answer. */
const CLOSE_AFTER_ANSWER_MS = 1000;

/** The upgrade a request asks for, or undefined for a plain request. */
export function upgradeOf(req: IncomingMessage): PendingUpgrade | undefined {
  return PENDING.get(req);
}

/**
 * Sends upgrade requests (WebSockets) down the same pipeline as every other request (docs/routing.md
 * "WebSockets"): each gets a ServerResponse on its socket and is emitted as a 'request', so
 * trace ids, route match, plugins, rate limit, permits and the deadline apply unchanged. The
 * proxy then either switches protocols (see WebSocketForwarder) or answers over that response,
 * after which the socket is closed.
 */
export function acceptUpgrades(server: Server): void {
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    // Nobody else listens on a socket Node has let go of: an error must not crash the process.
    socket.on('error', () => socket.destroy());
    PENDING.set(req, { socket, head });
    const res = new ServerResponse(req);
    res.shouldKeepAlive = false;
    res.assignSocket(socket as Parameters<ServerResponse['assignSocket']>[0]);
    // An HTTP answer (an error, or the upstream refusing the upgrade) ends the connection; a
    // client that keeps its side open is cut after a second, so it holds nothing (Node keeps
    // such sockets half-open, and a server cannot close while one is).
    res.once('finish', () => {
      socket.end();
      setTimeout(() => socket.destroy(), CLOSE_AFTER_ANSWER_MS).unref();
    });
    server.emit('request', req, res);
  });
}
