// The client's transport against misbehaving servers on loopback: a server that accepts a request and never
// answers ends the exchange with a TimeoutError (not a hang), and a server that answers with something other than
// the service's JSON is refused with a typed HeServiceError (not a SyntaxError).
import { type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { HeRemote, HeServiceError } from '../src/index.ts';
import { platform } from '../src/platform/node.ts';

let server: Server | undefined;
afterEach(async () => {
  server?.closeAllConnections();
  await new Promise((r) => server?.close(r) ?? r(undefined));
  server = undefined;
});

async function listen(handler: Parameters<typeof createServer>[1]): Promise<string> {
  server = createServer(handler);
  await new Promise<void>((r) => server?.listen(0, '127.0.0.1', r));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

describe('HeRemote transport', () => {
  it('a server that never answers ends the request with a TimeoutError', async () => {
    const url = await listen(() => undefined);
    const e = await platform.http(`${url}/v1/models`, 'GET', {}, undefined, 100).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(Error);
    expect((e as Error).name).toBe('TimeoutError');
  });

  it('a reply that is not JSON is a typed HeServiceError', async () => {
    const url = await listen((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end('<html>not a service</html>');
    });
    const e = await HeRemote.connect(url).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(HeServiceError);
    expect([(e as HeServiceError).status, (e as HeServiceError).reason]).toEqual([502, 'bad-request']);
  });
});
