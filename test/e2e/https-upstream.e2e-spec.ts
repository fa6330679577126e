import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { resolve } from 'node:path';
import { Agent, request } from 'undici';
import { startGatewayProcess, type GatewayProcess } from '../support/gateway-process';

/*
 * An upstream reached over TLS (an https:// target). The response body arrives in the reads of
 * a TLS socket rather than a TCP one, and the gateway frees each read once the client has it
 * (src/upstream/chunk-release.ts): every byte must still arrive intact, with a Content-Length
 * and chunked. The certificate is test material (test/support/tls/README.md), trusted by the
 * gateway process through NODE_EXTRA_CA_CERTS.
 */

const TLS_DIR = resolve(__dirname, '../support/tls');
const CERT = resolve(TLS_DIR, 'upstream-cert.pem');
const MiB = 1024 * 1024;
const DOWNLOAD_BYTES = 64 * MiB;
const BLOCK_BYTES = 64 * 1024;

/** The sha256 of what the upstream sent for each download, by the last segment of its path, once it has sent all of it. */
const sent = new Map<string, string>();

function startHttpsUpstream(): Promise<Server> {
  const block = randomBytes(BLOCK_BYTES);
  const server = createServer({ cert: readFileSync(CERT), key: readFileSync(resolve(TLS_DIR, 'upstream-key.pem')) }, (req, res) => {
    if (req.method === 'POST') {
      const hash = createHash('sha256');
      req.on('data', (chunk: Buffer) => hash.update(chunk));
      req.on('end', () => res.end(hash.digest('hex')));
      return;
    }
    const chunked = req.url!.endsWith('/chunked');
    res.writeHead(200, chunked ? {} : { 'content-length': String(DOWNLOAD_BYTES) });
    const hash = createHash('sha256');
    let offset = 0;
    // Each block carries its offset, so a block delivered twice or out of order changes the hash.
    const pump = (): void => {
      while (offset < DOWNLOAD_BYTES) {
        const piece = Buffer.from(block);
        piece.writeUInt32BE(offset, 0);
        hash.update(piece);
        offset += piece.length;
        // Recorded with the last block, before writing it: the client may have read all of it before 'drain' comes.
        if (offset === DOWNLOAD_BYTES) sent.set(req.url!.split('/').pop()!, hash.digest('hex'));
        if (!res.write(piece)) {
          res.once('drain', pump);
          return;
        }
      }
      res.end();
    };
    pump();
  });
  return new Promise((done) => server.listen(0, '127.0.0.1', () => done(server)));
}

describe('an https:// upstream', () => {
  let upstream: Server;
  let gateway: GatewayProcess;
  let client: Agent;

  beforeAll(async () => {
    upstream = await startHttpsUpstream();
    const { port } = upstream.address() as AddressInfo;
    gateway = await startGatewayProcess({
      config: {
        upstreams: { secure: { targets: [`https://127.0.0.1:${port}`] } },
        routes: [{ id: 'secure', path: '/secure/*', upstream: 'secure' }],
      },
      env: { NODE_EXTRA_CA_CERTS: CERT },
    });
    client = new Agent();
  });

  afterAll(async () => {
    await client?.close();
    await gateway?.kill();
    upstream?.closeAllConnections();
    await new Promise((done) => upstream?.close(done));
  });

  async function download(path: string): Promise<{ status: number; bytes: number; sha256: string; contentLength: unknown }> {
    const res = await request(`${gateway.url}/secure${path}`, { dispatcher: client });
    const hash = createHash('sha256');
    let bytes = 0;
    for await (const chunk of res.body) {
      hash.update(chunk as Buffer);
      bytes += (chunk as Buffer).length;
    }
    return { status: res.statusCode, bytes, sha256: hash.digest('hex'), contentLength: res.headers['content-length'] };
  }

  it('streams 64 MiB with a Content-Length through the gateway intact', async () => {
    const got = await download('/files/with-length');
    expect(got.status).toBe(200);
    expect(got.contentLength).toBe(String(DOWNLOAD_BYTES));
    expect(got.bytes).toBe(DOWNLOAD_BYTES);
    expect(got.sha256).toBe(sent.get('with-length'));
  });

  it('streams 64 MiB chunked through the gateway intact', async () => {
    const got = await download('/files/chunked');
    expect(got.status).toBe(200);
    expect(got.contentLength).toBeUndefined();
    expect(got.bytes).toBe(DOWNLOAD_BYTES);
    expect(got.sha256).toBe(sent.get('chunked'));
  });

  it('sends a request body over TLS intact', async () => {
    const body = randomBytes(4 * MiB);
    const res = await request(`${gateway.url}/secure/upload`, { dispatcher: client, method: 'POST', body });
    expect(res.statusCode).toBe(200);
    expect(await res.body.text()).toBe(createHash('sha256').update(body).digest('hex'));
  });
});
