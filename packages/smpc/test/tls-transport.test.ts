// The network transport's own rules, below the sessions: a peer inside its authenticated TLS stream writes raw
// frames (what a buggy or malicious party could send), and the receiving TlsTransport must abort naming it for
// a duplicated or out-of-order frame, a frame of another session, a lane it may not use, garbage, a replayed tag;
// relay an explicit ABORT with its reason; and reassemble a long message from its 1 MiB chunks.
import tls from 'node:tls';
import { afterEach, describe, expect, it } from 'vitest';
import { ProtocolAbortError, generateIdentity } from '../src/index.ts';
import { ABORT, CHUNK, DATA, frameHeader, sessionDigest } from '../src/transport/frames.ts';
import { SEND_HIGH_WATER, TlsTransport } from '../src/transport/tls.ts';

const digest = sessionDigest('frames-test');
const [serverId, clientId] = [generateIdentity(), generateIdentity()];
const open: { close(): void }[] = [];
afterEach(() => {
  for (const o of open.splice(0)) o.close();
});

interface Pair {
  /** Party 1's transport; its peer 0 is the raw socket below. */
  readonly t: TlsTransport;
  readonly raw: tls.TLSSocket;
  readonly failures: ProtocolAbortError[];
  frame(
    kind: number,
    seq: number,
    tag: string,
    payload: Uint8Array,
    options?: { digest?: Uint8Array; total?: number; offset?: number },
  ): void;
}

async function pair(timeoutMs = 5000): Promise<Pair> {
  const server = tls.createServer({
    key: serverId.privateKeyPem,
    cert: serverId.certificatePem,
    minVersion: 'TLSv1.3',
    requestCert: true,
    rejectUnauthorized: false,
  });
  const accepted = new Promise<tls.TLSSocket>((resolve) => server.once('secureConnection', resolve));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as { port: number }).port;
  const raw = tls.connect({
    host: '127.0.0.1',
    port,
    key: clientId.privateKeyPem,
    cert: clientId.certificatePem,
    rejectUnauthorized: false,
    checkServerIdentity: () => undefined,
  });
  raw.on('error', () => {});
  const socket = await accepted;
  const failures: ProtocolAbortError[] = [];
  const t = new TlsTransport({
    party: 1,
    parties: 2,
    links: [{ socket, rest: Buffer.alloc(0), lanes: new Set(['']) }, null, null],
    digest,
    timeoutMs,
    onFailure: (e) => failures.push(e),
  });
  open.push({
    close: () => {
      t.close();
      t.destroy();
      raw.destroy();
      server.close();
    },
  });
  return {
    t,
    raw,
    failures,
    frame: (kind, seq, tag, payload, o = {}) => {
      raw.write(frameHeader(kind, o.digest ?? digest, seq, tag, o.total ?? payload.length, o.offset ?? 0, payload.length));
      raw.write(payload);
    },
  };
}

const eight = () => Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8);

async function failure(p: Pair, tag = '9.0'): Promise<ProtocolAbortError> {
  const e = await p.t.receive(0, tag).then(
    () => null,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(ProtocolAbortError);
  return e as ProtocolAbortError;
}

describe('TlsTransport frames', () => {
  it('reassembles a 3.5 MiB message sent as 1 MiB chunks', async () => {
    const p = await pair();
    const msg = new Uint8Array(3.5 * CHUNK).map((_, i) => i * 7);
    let seq = 1;
    for (let off = 0; off < msg.length; off += CHUNK)
      p.frame(DATA, seq++, '0.0', msg.subarray(off, off + CHUNK), { total: msg.length, offset: off });
    const got = await p.t.receive(0, '0.0');
    expect(got.length).toBe(msg.length);
    expect(Buffer.from(got).equals(Buffer.from(msg))).toBe(true);
    expect(p.failures).toHaveLength(0);
  });

  it('a duplicated frame breaks the numbering and aborts, naming the peer', async () => {
    const p = await pair();
    p.frame(DATA, 1, '0.0', eight());
    p.frame(DATA, 1, '0.0', eight());
    await p.t.receive(0, '0.0');
    const e = await failure(p, '0.1');
    expect(e.party).toBe(0);
    expect(e.message).toMatch(/party 0 sent frame 1 where frame 2 was due \(a duplicated, dropped or reordered frame\)/);
  });

  it('a frame of another session aborts', async () => {
    const p = await pair();
    p.frame(DATA, 1, '0.0', eight(), { digest: sessionDigest('another') });
    expect((await failure(p)).message).toMatch(/a frame of another session/);
  });

  it('a lane the peer may not use (dealer material from a party) aborts', async () => {
    const p = await pair();
    p.frame(DATA, 1, 'pre.0', eight());
    expect((await failure(p)).message).toMatch(/with tag "pre\.0", which it may not use/);
  });

  it('a replayed tag in a new frame aborts', async () => {
    const p = await pair();
    p.frame(DATA, 1, '0.0', eight());
    await p.t.receive(0, '0.0');
    p.frame(DATA, 2, '0.0', eight());
    expect((await failure(p, '0.1')).message).toMatch(/repeats a tag that was already received/);
  });

  it('garbage aborts', async () => {
    const p = await pair();
    p.raw.write(Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n'));
    const e = await failure(p);
    expect(e.message).toMatch(/party 0 sent a malformed frame/);
    expect(e.party).toBe(0);
  });

  it('a chunk out of place aborts', async () => {
    const p = await pair();
    p.frame(DATA, 1, '0.0', eight(), { total: 16, offset: 8 });
    expect((await failure(p)).message).toMatch(/at offset 8 before its start/);
  });

  it("an ABORT frame stops the party with the peer's reason and blame", async () => {
    const p = await pair();
    p.frame(ABORT, 1, 'abort', new TextEncoder().encode(JSON.stringify({ message: 'party 2 sent nothing', party: 0 })));
    const e = await failure(p);
    expect(e.message).toBe('party 0 aborted the session: party 2 sent nothing');
  });

  it('a peer that goes silent while awaited aborts after timeoutMs', async () => {
    const p = await pair(800);
    const t0 = Date.now();
    const e = await Promise.race([failure(p), new Promise((r) => setTimeout(() => r(null), 5000))]);
    expect(e).toBeInstanceOf(ProtocolAbortError);
    expect((e as ProtocolAbortError).message).toMatch(/party 0 sent nothing, not even a keepalive, for 800 ms/);
    expect(Date.now() - t0).toBeLessThan(800 + 500);
  });

  it('drained() rejects when the run fails while a peer that reads nothing holds the send queue', async () => {
    const p = await pair();
    p.raw.pause();
    p.t.send(0, '0.0', new Uint8Array(SEND_HIGH_WATER + CHUNK));
    const waiting = p.t.drained().then(
      () => 'drained',
      (e: unknown) => e,
    );
    p.t.fail(new Error('stopped by the test'));
    const got = await Promise.race([waiting, new Promise((r) => setTimeout(() => r('hung'), 3000))]);
    expect(got).toBeInstanceOf(ProtocolAbortError);
    expect((got as ProtocolAbortError).message).toMatch(/stopped by the test/);
  });
});
