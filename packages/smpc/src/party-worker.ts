/**
 * Worker entry of one party (internal). Receives its end of every channel of the full mesh plus the channel to
 * the dealer, agrees on pairwise zero-sharing keys (replicated sharing: X25519 over the mesh, then HKDF-SHA256),
 * and then runs the operations the coordinator queues, strictly in order. It reports acknowledgements with
 * round and byte counters, revealed plaintext, or a serialized error; never a share.
 * @module
 */
import { parentPort, workerData, type MessagePort } from 'node:worker_threads';
import { reportMemory } from './worker-memory.ts';
import { hkdf } from '@noble/hashes/hkdf.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { cryptoRng, randomBytes, serializeError } from '@ppml/core';
import type { FromWorker, Operation, PartyInit } from './messages.ts';
import { Party } from './party.ts';
import { MaterialPool, receiveMaterial, type MaterialRequest } from './preprocessing.ts';
import { AdditiveProtocol } from './protocols/additive.ts';
import { Channel, type Protocol } from './protocols/protocol.ts';
import { ReplicatedProtocol } from './protocols/replicated.ts';
import { MessagePortTransport } from './transport/message-port.ts';

const init = workerData as PartyInit;
const port = parentPort as MessagePort;

// Trip V8's ArrayBuffer detach protector once, before any kernel is optimized: the first detach in an isolate
// deoptimizes every function that touches typed arrays (measured 1.3 -> 6.6 M multiplications/s).
const throwaway = new ArrayBuffer(8);
structuredClone(throwaway, { transfer: [throwaway] });

function post(m: FromWorker, transfer: ArrayBuffer[] = []): void {
  port.postMessage(m, transfer);
}

let failed = false;
function fail(seq: number, e: unknown): void {
  if (failed) return;
  failed = true;
  post({ type: 'error', seq, error: serializeError(e) });
}

async function agreeKeys(t: MessagePortTransport): Promise<{ next: Uint8Array; prev: Uint8Array }> {
  // Loaded on demand: only replicated sharing needs it, and importing it costs a worker about 0.3 s.
  const { x25519 } = await import('@noble/curves/ed25519.js');
  const me = init.party;
  const secret = randomBytes(32, cryptoRng);
  const pub = x25519.getPublicKey(secret);
  for (let p = 0; p < init.parties; p++) if (p !== me) t.send(p, 'hello', pub.slice());
  const key = async (peer: number): Promise<Uint8Array> => {
    const theirs = await t.receive(peer, 'hello');
    if (theirs.length !== 32) throw new RangeError(`public key from party ${peer} must have 32 bytes`);
    const shared = x25519.getSharedSecret(secret, theirs);
    const lo = Math.min(me, peer);
    const hi = Math.max(me, peer);
    return hkdf(sha256, shared, new TextEncoder().encode('ppml-smpc'), new TextEncoder().encode(`zero-share ${lo}-${hi}`), 16);
  };
  const [next, prev] = await Promise.all([key((me + 1) % init.parties), key((me + init.parties - 1) % init.parties)]);
  return { next, prev };
}

async function start(ports: (MessagePort | null)[]): Promise<void> {
  const dealer = init.parties;
  const transport = new MessagePortTransport(init.party, ports, (e) => fail(-1, e), init.parties);
  let requestBytes = 0;
  let requests = 0;
  const pool = new MaterialPool(
    init.party === 0
      ? (req: MaterialRequest) => {
          const b = new TextEncoder().encode(JSON.stringify(req));
          requestBytes += b.byteLength;
          transport.send(dealer, `req.${requests++}`, b);
        }
      : null,
  );
  const replicated = init.protocol === 'replicated';
  void (async () => {
    for (let k = 0; ; k++) {
      const bytes = await transport.receive(dealer, `pre.${k}`);
      pool.add(receiveMaterial(bytes, init.party, init.parties, replicated));
    }
  })().catch((e: unknown) => fail(-1, e));
  const channel = new Channel(transport, pool);
  // Long operations report progress (at most every 200 ms) so the coordinator's timeout measures stalls only.
  let lastProgress = Date.now();
  channel.onRound = () => {
    const now = Date.now();
    if (now - lastProgress >= 200) {
      lastProgress = now;
      post({ type: 'progress' });
    }
  };
  const proto: Protocol = replicated
    ? new ReplicatedProtocol(channel, await agreeKeys(transport))
    : new AdditiveProtocol(channel);
  const party = new Party(proto, channel, init.fractionalBits);
  const queue: { seq: number; operation: Operation }[] = [];
  let running = false;
  let faultDone = false;

  const runAll = async (): Promise<void> => {
    running = true;
    while (queue.length > 0 && !failed) {
      const { seq, operation } = queue.shift() as { seq: number; operation: Operation };
      const fault = init.fault;
      if (fault && !faultDone && fault.party === init.party && fault.operation === operation.op) {
        faultDone = true;
        if (fault.kind === 'exit') process.exit(7);
        if (fault.kind === 'throw') {
          setTimeout(() => {
            throw new Error(`injected crash of party ${init.party}`);
          }, 0);
        }
        if (fault.kind === 'hang') await new Promise<never>(() => {});
        if (fault.kind === 'corrupt') transport.corruptNext = true;
      }
      const rounds0 = channel.rounds;
      const bytes0 = transport.bytesSent - requestBytes;
      const msgs0 = transport.messagesSent - requests;
      const req0 = requests;
      try {
        const result = await party.run(seq, operation);
        if (result) post({ type: 'result', seq, values: result }, [result.buffer as ArrayBuffer]);
        post({
          type: 'done',
          seq,
          rounds: channel.rounds - rounds0,
          bytes: transport.bytesSent - requestBytes - bytes0,
          messages: transport.messagesSent - requests - msgs0,
          requests: requests - req0,
          stored: party.stored,
        });
      } catch (e) {
        transport.fail(e instanceof Error ? e : new Error(String(e)));
        fail(seq, e);
      }
    }
    running = false;
  };

  port.on('message', (m: { type: string; seq: number; operation: Operation }) => {
    if (m.type === 'memory') post(reportMemory());
    if (m.type !== 'op' || failed) return;
    queue.push({ seq: m.seq, operation: m.operation });
    if (!running) void runAll();
  });
  post({ type: 'ready' });
}

port.once('message', (m: { type: string; ports: (MessagePort | null)[] }) => {
  start(m.ports).catch((e: unknown) => fail(-1, e));
});
