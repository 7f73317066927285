/**
 * A CKKS context built from a {@link CkksPlan}: the SEAL context (prime search and NTT tables, about 0.3 s at
 * N = 8192 and 1.2 s at N = 16384 in WebAssembly), the encoder and evaluator, the data primes of every level and
 * a parameter hash that every wire message carries. Contexts are cached per thread by plan and reference
 * counted, so a client, a server and their models share one; {@link clearContextCache} frees the unused ones.
 *
 * Levels follow SEAL's chain index: the top data level is `plan.depth` (all data primes), level 0 keeps only
 * `q0`; rescaling at level l divides the scale by `q_l` (Cheon et al. 2017, §3; SEAL `Evaluator::rescale_to_next`).
 * @module
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex } from '@noble/hashes/utils.js';
import { describeValue } from '@ppml/core';
import type { CKKSEncoder, Evaluator, ParmsIdType, SEALContext } from 'node-seal';
import { type CkksPlan, planFromJSON } from './planner.ts';
import { type Seal, loadSeal, sealCall } from './seal.ts';

/**
 * An owned SEAL CKKS context with its encoder and evaluator. Obtain one with {@link acquireContext} and give it
 * back with `release()` (or `using`).
 * @example
 * ```ts
 * using ctx = await acquireContext(planParameters({ depth: 1 }));
 * ctx.slots; // 4096
 * ```
 */
export class HeContext implements Disposable {
  readonly seal: Seal;
  readonly plan: CkksPlan;
  readonly context: SEALContext;
  readonly encoder: CKKSEncoder;
  readonly evaluator: Evaluator;
  /** `primes[l]`: the data prime dropped by a rescale at level l, as a double (as SEAL divides the scale). */
  readonly primes: Float64Array;
  /** Bit length of each data prime. */
  readonly primeBits: Uint8Array;
  /** 2^scaleBits. */
  readonly scale: number;
  /** Values per ciphertext. */
  readonly slots: number;
  /** SHA-256 of the plan and the actual primes; every wire message carries it. */
  readonly parameterHash: Uint8Array;
  /** Hex of {@link parameterHash}. */
  readonly id: string;
  readonly #parmsIds: ParmsIdType[];
  /** The parms id of each level as text, to recognise the level of a ciphertext from a peer. */
  readonly #parmsKeys: string[];
  #refs = 0;
  #deleted = false;

  /** Set only while {@link HeContext.build} constructs: the constructor is not public API. */
  static #building = false;

  private constructor(seal: Seal, plan: CkksPlan) {
    if (!HeContext.#building) throw new TypeError('HeContext has no public constructor: use acquireContext(plan) or HeContext.build(plan)');
    this.seal = seal;
    this.plan = plan;
    const N = plan.polyModulusDegree;
    const parms = new seal.EncryptionParameters(seal.SchemeType.ckks);
    try {
      parms.setPolyModulusDegree(N);
      using moduli = sealCall('choosing primes', () => seal.CoeffModulus.Create(N, Int32Array.from(plan.coeffModulusBits)));
      parms.setCoeffModulus(moduli);
      this.context = sealCall('creating the SEAL context', () => new seal.SEALContext(parms, true, seal.SecLevelType.tc128));
    } finally {
      parms.delete();
    }
    if (!this.context.parametersSet()) {
      this.context.delete();
      throw new RangeError(`SEAL rejected the parameters ${JSON.stringify(plan.coeffModulusBits)} for N = ${N}`);
    }
    this.encoder = new seal.CKKSEncoder(this.context);
    this.evaluator = new seal.Evaluator(this.context);
    const levels = plan.depth + 1;
    this.primes = new Float64Array(levels);
    this.primeBits = new Uint8Array(levels);
    const exact: string[] = [];
    {
      using first = this.context.firstContextData();
      using parmsFirst = first.parms();
      using vec = parmsFirst.coeffModulus();
      if (vec.size() !== levels) throw new Error(`expected ${levels} data primes, SEAL has ${vec.size()}`);
      for (let i = 0; i < levels; i++) {
        using m = vec.get(i);
        if (m === undefined) throw new Error(`missing prime ${i}`);
        const v = m.value();
        this.primes[i] = Number(v);
        this.primeBits[i] = m.bitCount();
        exact.push(v.toString());
      }
    }
    this.#parmsIds = [];
    {
      let data = this.context.firstContextData();
      for (let l = plan.depth; l >= 0; l--) {
        this.#parmsIds[l] = data.parmsId();
        if (l > 0) {
          const next = data.nextContextData();
          data.delete();
          data = next;
        }
      }
      data.delete();
    }
    this.#parmsKeys = this.#parmsIds.map((p) => parmsKey(p));
    this.scale = 2 ** plan.scaleBits;
    this.slots = this.encoder.slotCount();
    const canonical = JSON.stringify({
      format: 'ppml-he-ckks',
      N,
      primes: exact,
      special: plan.coeffModulusBits[plan.coeffModulusBits.length - 1],
      scaleBits: plan.scaleBits,
      depth: plan.depth,
      integerBits: plan.integerBits,
      inputBound: plan.inputBound,
      rotations: plan.rotations,
    });
    this.parameterHash = sha256(new TextEncoder().encode(canonical));
    this.id = bytesToHex(this.parameterHash);
  }

  /** The SEAL parms id of level `l` (owned by the context; do not delete). */
  parmsIdAt(level: number): ParmsIdType {
    const p = this.#parmsIds[level];
    if (p === undefined) throw new RangeError(`level must be an integer in [0, ${this.plan.depth}], got ${describeValue(level)}`);
    return p;
  }

  /**
   * The data level whose parms id `ct` carries, or undefined when it belongs to no data level of this context
   * (another parameter set, or the key level).
   */
  levelOf(ct: { parmsId(): ParmsIdType }): number | undefined {
    using p = ct.parmsId();
    const l = this.#parmsKeys.indexOf(parmsKey(p));
    return l < 0 ? undefined : l;
  }

  /** Top data level (fresh ciphertexts): `plan.depth`. */
  get topLevel(): number {
    return this.plan.depth;
  }

  /** Largest |value| a ciphertext at `level` can hold at scale `scale` without wrapping around. */
  headroom(level: number, scale: number = this.scale): number {
    let bits = 0;
    for (let i = 0; i <= level; i++) bits += Math.log2(this.primes[i]);
    return 2 ** (bits - 1 - Math.log2(scale));
  }

  /** Takes a reference (see {@link acquireContext}). */
  retain(): this {
    if (this.#deleted) throw new Error('this CKKS context was freed');
    this.#refs++;
    return this;
  }

  /** Gives back a reference; the context stays cached for reuse until {@link clearContextCache}. */
  release(): void {
    if (this.#refs > 0) this.#refs--;
  }

  [Symbol.dispose](): void {
    this.release();
  }

  /** References currently held. */
  get references(): number {
    return this.#refs;
  }

  /** Frees the SEAL objects; only {@link clearContextCache} calls this, when no reference is held. */
  free(): void {
    if (this.#deleted) return;
    this.#deleted = true;
    for (const p of this.#parmsIds) p?.delete();
    this.encoder.delete();
    this.evaluator.delete();
    this.context.delete();
  }

  /** Builds a context without caching (each call costs the full prime search). */
  static async build(plan: CkksPlan): Promise<HeContext> {
    const checked = planFromJSON(plan);
    const seal = await loadSeal();
    HeContext.#building = true;
    try {
      return new HeContext(seal, checked);
    } finally {
      HeContext.#building = false;
    }
  }
}

function parmsKey(p: ParmsIdType): string {
  return Array.from(p.values() as ArrayLike<bigint>, (v) => v.toString(16)).join(':');
}

const cache = new Map<string, Promise<HeContext>>();

function planKey(plan: CkksPlan): string {
  return JSON.stringify([
    plan.polyModulusDegree,
    plan.coeffModulusBits,
    plan.scaleBits,
    plan.depth,
    plan.integerBits,
    plan.inputBound,
    plan.rotations,
  ]);
}

/**
 * A shared context for `plan`, created on first use (per thread) and reused afterwards; call `release()` (or
 * `using`) when done.
 * @example
 * ```ts
 * const ctx = await acquireContext(planParameters({ depth: 3 }));
 * try { ctx.slots; } finally { ctx.release(); }
 * ```
 */
export async function acquireContext(plan: CkksPlan): Promise<HeContext> {
  const checked = planFromJSON(plan);
  const key = planKey(checked);
  let entry = cache.get(key);
  if (entry === undefined) {
    entry = HeContext.build(checked);
    cache.set(key, entry);
    entry.catch(() => cache.delete(key));
  }
  return (await entry).retain();
}

/**
 * Frees every cached context that no client, server or model holds; returns how many were freed.
 * @example
 * ```ts
 * client.close(); server.close(); await clearContextCache();
 * ```
 */
export async function clearContextCache(): Promise<number> {
  let freed = 0;
  for (const [key, entry] of cache) {
    const ctx = await entry.catch(() => undefined);
    if (ctx !== undefined && ctx.references === 0) {
      ctx.free();
      cache.delete(key);
      freed++;
    }
  }
  return freed;
}
