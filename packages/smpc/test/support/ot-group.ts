// n parties of dealer-free additive preprocessing inside the test thread (MessageChannels between them), each
// with a material pool fed by its own OT-based generator, so tests can look at one party's view directly.
import { MessageChannel, type MessagePort } from 'node:worker_threads';
import { seededTestRng } from '@ppml/core';
import { MaterialPool } from '../../src/preprocessing.ts';
import { AdditiveProtocol } from '../../src/protocols/additive.ts';
import { AdditivePreprocessing } from '../../src/protocols/additive-preprocessing.ts';
import { Channel } from '../../src/protocols/protocol.ts';
import { MessagePortTransport } from '../../src/transport/message-port.ts';

export interface Group {
  readonly pres: AdditivePreprocessing[];
  readonly transports: MessagePortTransport[];
  /** Every message party 0 received, in order, with the sender. */
  readonly received: { from: number; bytes: Uint8Array }[];
  close(): void;
}

/** n parties joined by MessageChannels, each with a pool that makes its material with its generator. */
export function group(n: number, seed: string): Group {
  const ports: (MessagePort | null)[][] = Array.from({ length: n }, () => Array<MessagePort | null>(n).fill(null));
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      const ch = new MessageChannel();
      ports[i][j] = ch.port1;
      ports[j][i] = ch.port2;
    }
  }
  const ts = ports.map((p, i) => new MessagePortTransport(i, p));
  const received: { from: number; bytes: Uint8Array }[] = [];
  const original = ts[0].receive.bind(ts[0]);
  ts[0].receive = async (peer, tag) => {
    const b = await original(peer, tag);
    received.push({ from: peer, bytes: b.slice() });
    return b;
  };
  const pres = ts.map((t, i) => {
    let pre: AdditivePreprocessing | null = null;
    const ch = new Channel(t, new MaterialPool(null, (req) => (pre as AdditivePreprocessing).generate(req)));
    pre = new AdditivePreprocessing(ch, new AdditiveProtocol(ch), seededTestRng(`${seed}-${i}`));
    return pre;
  });
  return {
    pres,
    transports: ts,
    received,
    close: () => {
      for (const t of ts) t.close();
    },
  };
}
