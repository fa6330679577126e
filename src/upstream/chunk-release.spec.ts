import { once } from 'node:events';
import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { writeReleasingChunk } from './chunk-release';

/** Node 22 and later can detach (free) an ArrayBuffer; Node 20 cannot, and then nothing is freed early. */
const CAN_FREE = typeof (ArrayBuffer.prototype as { transfer?: unknown }).transfer === 'function';

/** A buffer that owns its whole ArrayBuffer (as a read from a socket does), filled with a pattern. */
function ownedBuffer(size: number, seed: number): Buffer {
  const buffer = Buffer.allocUnsafeSlow(size);
  for (let i = 0; i < size; i++) buffer[i] = (i * 31 + seed) & 0xff;
  return buffer;
}

describe('writeReleasingChunk, through a real HTTP response on 127.0.0.1', () => {
  let server: Server;
  let nextResponse: (res: ServerResponse) => void;

  beforeAll(async () => {
    server = createServer((_req, res) => nextResponse(res));
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
  });

  afterAll(async () => {
    server.close();
    await once(server, 'close');
  });

  /** Starts a GET, hands the server's response to `write`, and resolves with the body the client read. */
  async function exchange(write: (res: ServerResponse) => void): Promise<Buffer> {
    nextResponse = write;
    const { port } = server.address() as AddressInfo;
    const req = request({ host: '127.0.0.1', port, path: '/', agent: false });
    req.end();
    const [res] = (await once(req, 'response')) as [IncomingMessage];
    const parts: Buffer[] = [];
    for await (const part of res) parts.push(part as Buffer);
    return Buffer.concat(parts);
  }

  /** Writes `chunks` with writeReleasingChunk and ends; resolves with what the client read once the response has finished ('finish' comes after every write's callback). */
  async function sendThroughResponse(chunks: Buffer[]): Promise<Buffer> {
    let finished!: Promise<unknown>;
    const body = await exchange((res) => {
      finished = once(res, 'finish');
      for (const chunk of chunks) writeReleasingChunk(res, chunk);
      res.end();
    });
    await finished;
    return body;
  }

  it(
    CAN_FREE
      ? 'frees a chunk that spans its whole buffer once the response has flushed it, and the client gets every byte'
      : 'leaves every chunk to the collector on Node 20 (no ArrayBuffer.prototype.transfer), and the client gets every byte',
    async () => {
      const chunks = [ownedBuffer(64 * 1024, 1), ownedBuffer(64 * 1024, 2)];
      const expected = Buffer.concat(chunks);
      const body = await sendThroughResponse(chunks);
      expect(body.equals(expected)).toBe(true);
      expect(chunks.map((chunk) => chunk.byteLength)).toEqual(CAN_FREE ? [0, 0] : [64 * 1024, 64 * 1024]);
    },
  );

  it('never frees a chunk that shares its buffer (a view into part of it): the rest of the buffer stays readable', async () => {
    const whole = ownedBuffer(128 * 1024, 3);
    const copyOfWhole = Buffer.from(whole);
    const body = await sendThroughResponse([whole.subarray(0, 64 * 1024)]);
    expect(body.equals(copyOfWhole.subarray(0, 64 * 1024))).toBe(true);
    expect(whole.byteLength).toBe(128 * 1024);
    expect(whole.equals(copyOfWhole)).toBe(true);
  });

  it('leaves small chunks (under 8 KiB) to the collector', async () => {
    const small = ownedBuffer(4 * 1024, 4);
    const body = await sendThroughResponse([small]);
    expect(body.equals(ownedBuffer(4 * 1024, 4))).toBe(true);
    expect(small.byteLength).toBe(4 * 1024);
  });

  it('does not free a chunk whose write failed (it may never have reached the socket)', async () => {
    const chunk = ownedBuffer(64 * 1024, 5);
    let failed!: Promise<unknown>;
    const exchanged = exchange((res) => {
      res.destroy();
      failed = new Promise((done) => {
        // The response reports the failed write to the chunk's callback on the next tick; a
        // second write queued behind it calls back after it, so the first one has been handled.
        writeReleasingChunk(res, chunk);
        res.write(Buffer.alloc(1), done);
      });
    });
    await expect(exchanged).rejects.toThrow();
    await failed;
    expect(chunk.byteLength).toBe(64 * 1024);
    expect(chunk.equals(ownedBuffer(64 * 1024, 5))).toBe(true);
  });
});
