import { IncomingMessage, ServerResponse } from 'node:http';
import { Socket } from 'node:net';
import { RequestEnd } from './request-end';

/** A Node response on a given (unconnected) socket, as the HTTP server builds one. */
const responseOn = (socket: Socket): ServerResponse => new ServerResponse(new IncomingMessage(socket));

describe('RequestEnd', () => {
  it('calls back once, in order, when the response closes, however often close is emitted', () => {
    const socket = new Socket();
    const res = responseOn(socket);
    const end = new RequestEnd(res);
    const calls: string[] = [];
    end.onEnd(() => calls.push('a'));
    end.onEnd(() => calls.push('b'));
    expect(end.ended).toBe(false);
    res.emit('close');
    res.emit('close');
    socket.emit('close');
    expect(calls).toEqual(['a', 'b']);
    expect(end.ended).toBe(true);
  });

  it('ends every request still open on a connection when the connection closes (pipelined responses Node 20 never closes)', () => {
    const socket = new Socket();
    const first = new RequestEnd(responseOn(socket));
    const second = new RequestEnd(responseOn(socket));
    const calls: string[] = [];
    first.onEnd(() => calls.push('first'));
    second.onEnd(() => calls.push('second'));
    socket.emit('close');
    expect(calls).toEqual(['first', 'second']);
  });

  it('forgets a finished request, so a connection serving many requests holds one listener, not one per request', () => {
    const socket = new Socket();
    const before = socket.listenerCount('close');
    for (let i = 0; i < 50; i++) {
      const res = responseOn(socket);
      const end = new RequestEnd(res);
      end.onEnd(() => undefined);
      res.emit('close');
    }
    expect(socket.listenerCount('close') - before).toBe(1);
    const calls: string[] = [];
    const later = new RequestEnd(responseOn(socket));
    later.onEnd(() => calls.push('later'));
    socket.emit('close');
    expect(calls).toEqual(['later']);
  });

  it('runs a callback added after the end at once, and not one taken back with off()', () => {
    const res = responseOn(new Socket());
    const end = new RequestEnd(res);
    const calls: string[] = [];
    const dropped = (): number => calls.push('dropped');
    end.onEnd(dropped);
    end.off(dropped);
    res.emit('close');
    end.onEnd(() => calls.push('late'));
    expect(calls).toEqual(['late']);
  });

  it('a request on a connection that is already gone ends on its own', async () => {
    const socket = new Socket();
    socket.destroy();
    const end = new RequestEnd(responseOn(socket));
    await new Promise<void>((resolve) => end.onEnd(resolve));
    expect(end.ended).toBe(true);
  });
});
