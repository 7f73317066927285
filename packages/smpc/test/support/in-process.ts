// Parties of one protocol run inside the test thread (MessageChannels between them, dealer material produced
// synchronously from a seeded generator), so tests can look at one party's view directly.
import { MessageChannel, type MessagePort } from 'node:worker_threads';
import { seededTestRng, type Rng } from '@ppml/core';
import { dealMaterial, MaterialPool, receiveMaterial } from '../../src/preprocessing.ts';
import { AdditiveProtocol } from '../../src/protocols/additive.ts';
import { Channel, type Protocol } from '../../src/protocols/protocol.ts';
import { ReplicatedProtocol } from '../../src/protocols/replicated.ts';
import { MessagePortTransport } from '../../src/transport/message-port.ts';
import { Party } from '../../src/party.ts';

export interface InProcessRun {
  readonly parties: Party[];
  readonly transports: MessagePortTransport[];
  close(): void;
}

export function inProcess(n: number, replicated: boolean, seed: string): InProcessRun {
  const rng: Rng = seededTestRng(seed);
  const ports: (MessagePort | null)[][] = Array.from({ length: n }, () => new Array<MessagePort | null>(n).fill(null));
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      const ch = new MessageChannel();
      ports[i][j] = ch.port1;
      ports[j][i] = ch.port2;
    }
  }
  const transports = ports.map((p, i) => new MessagePortTransport(i, p));
  const pools: MaterialPool[] = [];
  for (let i = 0; i < n; i++) {
    pools.push(
      new MaterialPool(
        i === 0
          ? (req) => {
              dealMaterial(req, n, replicated, rng).forEach((m, p) => {
                pools[p].add(receiveMaterial(m, p, n, replicated));
              });
            }
          : null,
      ),
    );
  }
  // Pairwise zero-sharing keys drawn from the seeded generator (the workers agree on them with X25519).
  const pair = Array.from({ length: n }, () => {
    const k = new Uint8Array(16);
    rng.fillBytes(k);
    return k;
  });
  const parties = transports.map((t, i) => {
    const ch = new Channel(t, pools[i]);
    const proto: Protocol = replicated
      ? new ReplicatedProtocol(ch, { next: pair[i], prev: pair[(i + n - 1) % n] }, rng)
      : new AdditiveProtocol(ch, rng);
    return new Party(proto, ch, 16);
  });
  return {
    parties,
    transports,
    close: () => {
      for (const t of transports) t.close();
    },
  };
}
