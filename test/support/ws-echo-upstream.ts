import { once } from 'node:events';
import { createServer, type IncomingMessage, type RequestListener, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer } from 'ws';

export interface EchoUpstream {
  readonly url: string;
  readonly handshakes: IncomingMessage[];
  readonly server: Server;
  readonly wss: WebSocketServer;
  close(): Promise<void>;
}

const plain: RequestListener = (_req, res) => res.writeHead(200).end('plain');

/** A ws echo server; `/refuse` answers the handshake with 403, `/hang` never answers it. Plain HTTP requests go to `http`. */
export async function wsEchoUpstream(http: RequestListener = plain): Promise<EchoUpstream> {
  const handshakes: IncomingMessage[] = [];
  const server = createServer(http);
  const wss = new WebSocketServer({ noServer: true });
  server.on('upgrade', (req, socket, head) => {
    handshakes.push(req);
    if (req.url?.startsWith('/refuse')) {
      socket.end('HTTP/1.1 403 Forbidden\r\ncontent-type: text/plain\r\ncontent-length: 7\r\nconnection: close\r\n\r\nrefused');
      return;
    }
    if (req.url?.startsWith('/hang')) {
      // Never answers; closes once the gateway gives up on it.
      socket.on('end', () => socket.destroy());
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => ws.on('message', (data, binary) => ws.send(data, { binary })));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    handshakes,
    server,
    wss,
    close: async () => {
      for (const ws of wss.clients) ws.terminate();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

