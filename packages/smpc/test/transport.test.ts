// Replays and duplicates on the party-to-party transport: every tag is accepted once for the life of the
// transport, whether the second copy arrives before or after the first was read, and the memory used to
// remember tags stays bounded by one epoch. The peer side is a raw MessagePort, so the test can put on the
// wire what a network attacker (or a buggy peer) would.
import { MessageChannel, type MessagePort } from 'node:worker_threads';
import { afterEach, describe, expect, it } from 'vitest';
import { ProtocolAbortError } from '../src/index.ts';
import { MessagePortTransport } from '../src/transport/message-port.ts';
import { parseTag } from '../src/transport/transport.ts';

interface Wire {
  /** The receiving transport (party 1); its peer 0 is the raw port below. */
  readonly t: MessagePortTransport;
  /** Puts a message on the wire from party 0. */
  post(tag: unknown, bytes?: unknown): void;
  readonly failures: Error[];
}

const open: MessagePort[] = [];
afterEach(() => {
  for (const p of open.splice(0)) p.close();
});

function wire(): Wire {
  const ch = new MessageChannel();
  open.push(ch.port1, ch.port2);
  const failures: Error[] = [];
  const t = new MessagePortTransport(1, [ch.port2, null], (e) => failures.push(e));
  return {
    t,
    failures,
    post: (tag, bytes = Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8)) => ch.port1.postMessage({ t: tag, b: bytes }),
  };
}

/** Resolves once every message posted so far has been delivered (ports are FIFO): a sentinel makes the trip. */
async function drain(w: Wire, sentinel: string): Promise<void> {
  w.post(sentinel);
  await w.t.receive(0, sentinel).catch(() => {});
}

describe('MessagePortTransport rejects repeated tags for its whole life', () => {
  it('a copy arriving after its tag was received aborts the party and is never returned by a later receive', async () => {
    const w = wire();
    w.post('0.0', Uint8Array.of(1, 0, 0, 0, 0, 0, 0, 0));
    expect([...(await w.t.receive(0, '0.0'))][0]).toBe(1);
    w.post('0.0', Uint8Array.of(9, 0, 0, 0, 0, 0, 0, 0)); // the replay
    await drain(w, '0.1');
    expect(w.failures).toHaveLength(1);
    expect(w.failures[0]).toBeInstanceOf(ProtocolAbortError);
    expect((w.failures[0] as ProtocolAbortError).party).toBe(0);
    expect(w.failures[0]?.message).toMatch(/message 0\.0 from party 0 repeats a tag that was already received/);
    await expect(w.t.receive(0, '0.0')).rejects.toBe(w.failures[0]);
  });

  it('a copy of a tag from an operation this party has finished is rejected', async () => {
    const w = wire();
    for (const tag of ['0.0', '0.1', '1.0']) {
      w.post(tag);
      await w.t.receive(0, tag);
    }
    w.post('0.1'); // replay of the previous operation's message
    await drain(w, '1.1');
    expect(w.failures.map((e) => e.message)).toEqual([expect.stringMatching(/message 0\.1 from party 0 repeats a tag/)]);
  });

  it('dealer lanes ("pre.k") and bare tags ("hello") are protected the same way', async () => {
    for (const [first, replay, sentinel] of [
      ['pre.0', 'pre.0', 'pre.1'],
      ['hello', 'hello', '0.0'],
    ] as const) {
      const w = wire();
      w.post(first);
      await w.t.receive(0, first);
      w.post(replay);
      await drain(w, sentinel);
      expect(w.failures).toHaveLength(1);
    }
  });

  it('a second copy while the first is unread is rejected (duplicate)', async () => {
    const w = wire();
    w.post('3.0');
    w.post('3.0');
    await drain(w, '3.1');
    expect(w.failures.map((e) => e.message)).toEqual(['duplicate message 3.0 from party 0']);
  });

  it('memory for replay detection stays bounded by one epoch over 3,000 operations', async () => {
    const w = wire();
    for (let op = 0; op < 3000; op++) {
      for (let step = 0; step < 3; step++) w.post(`${op}.${step}`);
      await Promise.all([0, 1, 2].map((step) => w.t.receive(0, `${op}.${step}`)));
      expect(w.t.rememberedTags).toBeLessThanOrEqual(3);
    }
    w.post('17.1'); // an old tag, long forgotten as an entry, is still refused by the epoch mark
    await drain(w, '2999.3');
    expect(w.failures).toHaveLength(1);
    expect(w.t.rememberedTags).toBeLessThanOrEqual(4);
  });

  it('a message never read before its step ended aborts the party', async () => {
    const w = wire();
    w.post('0.0');
    w.post('0.1'); // never asked for
    await w.t.receive(0, '0.0');
    await drain(w, '0.2'); // 0.1 now waits unread in the inbox
    w.post('1.0');
    await expect(w.t.receive(0, '1.0')).rejects.toThrow(/message 0\.1 from party 0 was never received before its step ended/);
    // Also when the first message asked for from a peer is already past the unread one.
    const v = wire();
    v.post('2.0');
    await drain(v, 'hello');
    await expect(v.t.receive(0, '5.0')).rejects.toThrow(/message 2\.0 from party 0 was never received/);
  });

  it('malformed tags are refused on the wire, at send and at receive', async () => {
    const w = wire();
    w.post(42);
    await drain(w, '0.0');
    expect(w.failures.map((e) => e.message)).toEqual(['malformed message from party 0']);
    const ok = wire();
    expect(() => ok.t.send(0, '1.2.3', new Uint8Array(8))).toThrow(/tag must have the form/);
    expect(() => ok.t.send(5, '1.2', new Uint8Array(8))).toThrow(/peer must be another party in \[0, 2\), got 5/);
    await expect(ok.t.receive(0, 'x y')).rejects.toThrow(RangeError);
    await expect(ok.t.receive(1, '0.0')).rejects.toThrow(/peer must be another party/);
  });

  it('a local receive of the same tag twice, or of an older epoch, is a RangeError', async () => {
    const w = wire();
    const first = w.t.receive(0, '4.0');
    await expect(w.t.receive(0, '4.0')).rejects.toThrow(/was already asked for/);
    w.post('4.0');
    await first;
    await expect(w.t.receive(0, '4.0')).rejects.toThrow(/was already asked for/);
    await expect(w.t.receive(0, '3.9')).rejects.toThrow(/epochs must be received in non-decreasing order/);
  });

  it('parseTag reads the three tag forms', () => {
    expect(parseTag('7.2')).toEqual({ lane: '', epoch: 7 });
    expect(parseTag('pre.3')).toEqual({ lane: 'pre', epoch: 3 });
    expect(parseTag('hello')).toEqual({ lane: 'hello', epoch: 0 });
    for (const bad of ['', '1', '01.2', '1.2.3', 'a b', 1, null, '9999999999999999.0']) expect(parseTag(bad)).toBeNull();
  });
});
