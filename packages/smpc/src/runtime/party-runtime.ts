/**
 * One party's runtime (internal), the same code on a worker thread (in-process mesh) and in a network process
 * (TLS): it agrees pairwise zero-sharing keys, receives dealer material, and runs the operations it is given
 * strictly in order, reporting acknowledgements with round and byte counters, revealed plaintext, or a
 * serialized error through `report`; never a share. Only the {@link Transport} differs between deployments.
 *
 * Pairwise keys (replicated sharing): taken from the transport's authenticated channel when it has one
 * (`channelKey`, the TLS exporter of RFC 5705 / RFC 8446 Sec. 7.5), else agreed by X25519 over the transport
 * and HKDF-SHA256 (in-process ports, where no third party sits between the threads).
 * @module
 */
import { hkdf } from '@noble/hashes/hkdf.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { cryptoRng, randomBytes, serializeError } from '@ppml/core';
import type { FaultInjection, FromWorker, Operation, SecurityModel } from '../messages.ts';
import { Party } from '../party.ts';
import { MaterialPool, receiveMaterial, type Material, type MaterialRequest } from '../preprocessing.ts';
import { AdditiveProtocol } from '../protocols/additive.ts';
import { AdditivePreprocessing } from '../protocols/additive-preprocessing.ts';
import { Channel, type Protocol } from '../protocols/protocol.ts';
import { MaliciousReplicatedProtocol } from '../protocols/replicated-malicious.ts';
import { ReplicatedProtocol, type PairKeys } from '../protocols/replicated.ts';
import { generateReplicatedMaterial } from '../protocols/replicated-preprocessing.ts';
import { Spdz2kProtocol } from '../protocols/spdz2k.ts';
import type { Transport } from '../transport/transport.ts';

/** Options of {@link runParty}. */
export interface PartyRuntimeOptions {
  /** The links to the other parties and, at peer index `dealer`, to the dealer. */
  readonly transport: Transport;
  /**
   * The dealer's peer index on `transport` (the number of parties), or `null` for dealer-free preprocessing:
   * the parties then make it themselves (`protocols/replicated-preprocessing.ts`, and for additive sharing
   * `protocols/additive-preprocessing.ts`, by oblivious transfer).
   */
  readonly dealer: number | null;
  readonly protocol: 'additive' | 'replicated';
  readonly fractionalBits: number;
  /** 'malicious': the checked replicated protocol (`protocols/replicated-malicious.ts`). Default 'semi-honest'. */
  readonly security?: SecurityModel;
  /** Statistical security parameter of the malicious mode's triple verification. Default 40. */
  readonly statisticalSecurity?: number;
  /** Where acknowledgements, results and errors go (the coordinating thread, or the local session). */
  readonly report: (m: FromWorker, transfer?: ArrayBuffer[]) => void;
  /** Return revealed values on every party (network: each process is its own coordinator), not only party 0. */
  readonly revealEverywhere?: boolean;
  /** Test-only fault injection. */
  readonly fault?: FaultInjection | null;
  /** What the 'exit' fault does (a worker exits its thread; a process exits). */
  readonly exit?: (code: number) => void;
}

/** A running party: feed it operations in sequence order. */
export interface PartyRuntime {
  /** Queues operation `seq`; operations run strictly one after the other. */
  submit(seq: number, operation: Operation): void;
  /** True once the party has failed (it then ignores further operations). */
  readonly failed: boolean;
}

async function agreeKeys(t: Transport): Promise<PairKeys> {
  const me = t.party;
  const n = t.parties;
  const next = (me + 1) % n;
  const prev = (me + n - 1) % n;
  if (t.channelKey !== undefined) {
    return { next: t.channelKey(next, 'zero-share'), prev: t.channelKey(prev, 'zero-share') };
  }
  // Loaded on demand: only replicated sharing needs it, and importing it costs a worker about 0.3 s.
  const { x25519 } = await import('@noble/curves/ed25519.js');
  const secret = randomBytes(32, cryptoRng);
  const pub = x25519.getPublicKey(secret);
  for (let p = 0; p < n; p++) if (p !== me) t.send(p, 'hello', pub.slice());
  const key = async (peer: number): Promise<Uint8Array> => {
    const theirs = await t.receive(peer, 'hello');
    if (theirs.length !== 32) throw new RangeError(`public key from party ${peer} must have 32 bytes`);
    const shared = x25519.getSharedSecret(secret, theirs);
    const lo = Math.min(me, peer);
    const hi = Math.max(me, peer);
    return hkdf(sha256, shared, new TextEncoder().encode('ppml-smpc'), new TextEncoder().encode(`zero-share ${lo}-${hi}`), 16);
  };
  const [k1, k2] = await Promise.all([key(next), key(prev)]);
  return { next: k1, prev: k2 };
}

/**
 * Starts one party over `options.transport`; resolves when it is ready for operations (after the key
 * agreement). Failures after start are reported as `{ type: 'error' }` messages.
 * @example
 * ```ts
 * const runtime = await runParty({ transport, dealer: 3, protocol: 'additive', fractionalBits: 16, report: (m) => console.log(m.type) });
 * runtime.submit(0, { op: 'input', out: 1, owner: 0, count: 2, values: Float64Array.of(1, 2) });
 * ```
 */
export async function runParty(options: PartyRuntimeOptions): Promise<PartyRuntime> {
  const { transport, dealer, report } = options;
  const me = transport.party;
  const parties = transport.parties;
  let failed = false;
  const fail = (seq: number, e: unknown): void => {
    if (failed) return;
    failed = true;
    transport.fail(e instanceof Error ? e : new Error(String(e)));
    report({ type: 'error', seq, error: serializeError(e) });
  };
  let requestBytes = 0;
  let requests = 0;
  const replicated = options.protocol === 'replicated';
  // Set once the protocol exists (after the key agreement); the pool only calls it from an operation.
  let generate: ((req: MaterialRequest) => Promise<Material>) | null = null;
  const pool = new MaterialPool(
    me === 0 && dealer !== null
      ? (req: MaterialRequest) => {
          const b = new TextEncoder().encode(JSON.stringify(req));
          requestBytes += b.byteLength;
          transport.send(dealer, `req.${requests++}`, b);
        }
      : null,
    dealer === null ? (req: MaterialRequest) => (generate as (r: MaterialRequest) => Promise<Material>)(req) : null,
  );
  if (dealer !== null) {
    void (async () => {
      for (let k = 0; ; k++) {
        const bytes = await transport.receive(dealer, `pre.${k}`);
        pool.add(receiveMaterial(bytes, me, parties, replicated));
      }
    })().catch((e: unknown) => fail(-1, e));
  }
  const channel = new Channel(transport, pool);
  // Long operations report progress (at most every 200 ms) so the coordinator's timeout measures stalls only.
  let lastProgress = Date.now();
  channel.onRound = () => {
    const now = Date.now();
    if (now - lastProgress >= 200) {
      lastProgress = now;
      report({ type: 'progress' });
    }
  };
  let proto: Protocol;
  if (replicated) {
    const keys = await agreeKeys(transport);
    const rep =
      options.security === 'malicious'
        ? new MaliciousReplicatedProtocol(channel, keys, { statisticalSecurity: options.statisticalSecurity ?? 40 })
        : new ReplicatedProtocol(channel, keys);
    generate = (req) => generateReplicatedMaterial(rep, req);
    proto = rep;
  } else {
    const additive = new AdditiveProtocol(channel);
    proto = additive;
    if (dealer === null) {
      // Dealer-free additive sharing: the parties make their material by oblivious transfer.
      const pre = new AdditivePreprocessing(channel, additive);
      generate = (req) => pre.generate(req);
      // Malicious security: SPDZ2k, whose authenticated material comes from the same OTs (no pool requests).
      if (options.security === 'malicious') proto = new Spdz2kProtocol(channel, pre);
    }
  }
  // Under malicious security every party returns what it revealed, and the session compares them.
  const party = new Party(proto, channel, options.fractionalBits, options.revealEverywhere === true || options.security === 'malicious');
  const queue: { seq: number; operation: Operation }[] = [];
  let running = false;
  let faultDone = false;
  const fault = options.fault ?? null;

  const runAll = async (): Promise<void> => {
    running = true;
    while (queue.length > 0 && !failed) {
      const { seq, operation } = queue.shift() as { seq: number; operation: Operation };
      if (fault && !faultDone && fault.party === me && fault.operation === operation.op) {
        faultDone = true;
        if (fault.kind === 'exit') (options.exit ?? ((c: number) => process.exit(c)))(7);
        if (fault.kind === 'throw') {
          setTimeout(() => {
            throw new Error(`injected crash of party ${me}`);
          }, 0);
        }
        if (fault.kind === 'hang') await new Promise<never>(() => {});
        if (fault.kind === 'corrupt') (transport as { corruptNext?: boolean }).corruptNext = true;
        if (fault.kind === 'addError' || fault.kind === 'flipBit') channel.tamper = { kind: fault.kind, skip: fault.message ?? 0 };
        if (fault.kind === 'wrongOpen') (proto as { tamperOpen?: boolean }).tamperOpen = true;
      }
      const rounds0 = channel.rounds;
      const bytes0 = transport.bytesSent - requestBytes;
      const msgs0 = transport.messagesSent - requests;
      const req0 = requests;
      try {
        // Backpressure: do not start another operation while a slow peer still has too much queued.
        if (transport.drained !== undefined) await transport.drained();
        const result = await party.run(seq, operation);
        if (result) report({ type: 'result', seq, values: result }, [result.buffer as ArrayBuffer]);
        report({
          type: 'done',
          seq,
          rounds: channel.rounds - rounds0,
          bytes: transport.bytesSent - requestBytes - bytes0,
          messages: transport.messagesSent - requests - msgs0,
          requests: requests - req0,
          stored: party.stored,
        });
      } catch (e) {
        fail(seq, e);
      }
    }
    running = false;
  };

  return {
    submit(seq: number, operation: Operation): void {
      if (failed) return;
      queue.push({ seq, operation });
      if (!running) void runAll();
    },
    get failed() {
      return failed;
    },
  };
}
