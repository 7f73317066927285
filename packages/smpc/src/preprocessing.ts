/**
 * Correlated randomness from a dealer (the offline phase): Beaver triples (Beaver 1991) for arithmetic and
 * binary products and for matrix products, truncation pairs with the wrap bit of the mask (exact-wrap
 * truncation, see `party.ts`), edaBit-style masks (a random r shared arithmetically together with a binary
 * sharing of -r; Escudero et al. CRYPTO 2020) for comparison, and daBits (one random bit shared both ways) for
 * binary-to-arithmetic conversion.
 *
 * Seed compression: every component of a sharing that can be pseudorandom is sent as a 16-byte PRG seed and
 * expanded by the party; only the last component of a derived field (c = ab, r >> 63, ...) is sent in full.
 * With additive sharing party i receives component i; with replicated 3-party sharing party i receives
 * components i and i+1 of "native" fields, and only component i of fields that must stay n-out-of-n (the mask
 * used to open a product). The dealer never sees inputs; it plays the trusted-dealer role of CrypTen's TTP.
 * @module
 */
import { cryptoRng, type Rng } from '@ppml/core';
import { expand, freshSeed, randomRing, SEED_BYTES } from './prg.ts';
import { matmul } from './ring.ts';

const LITTLE_ENDIAN = new Uint8Array(Uint32Array.of(1).buffer)[0] === 1;

/** The kinds of dealer material. */
export type MaterialKind = 'triple' | 'andTriple' | 'trunc' | 'edabit' | 'dabit' | 'matTriple';

/** One request to the dealer; `key` names the pool the material goes to. */
export interface MaterialRequest {
  readonly key: string;
  readonly kind: MaterialKind;
  /** Number of items (elements, or whole matrix triples). */
  readonly count: number;
  /** Truncation shift (kind 'trunc'). */
  readonly shift?: number;
  /** Matrix triple shape (kind 'matTriple'): A is m x k, B is k x n. */
  readonly m?: number;
  readonly k?: number;
  readonly n?: number;
}

/** How one field of an item is shared. */
export interface FieldSpec {
  readonly name: string;
  /** Ring elements per item. */
  readonly perItem: number;
  readonly xor: boolean;
  /** 'native': the protocol's own sharing; 'single': n-out-of-n additive even under replicated sharing. */
  readonly holders: 'native' | 'single';
  /** Random fields are pseudorandom in every component; derived ones carry a correction. */
  readonly random: boolean;
}

/**
 * The fields of one kind of material.
 * @example
 * ```ts
 * fieldsOf({ key: 'triple', kind: 'triple', count: 8 }).map((f) => f.name); // ['a', 'b', 'c']
 * ```
 */
export function fieldsOf(req: MaterialRequest): FieldSpec[] {
  const f = (name: string, perItem: number, xor: boolean, holders: 'native' | 'single', random: boolean): FieldSpec => ({
    name,
    perItem,
    xor,
    holders,
    random,
  });
  switch (req.kind) {
    case 'triple':
      return [f('a', 1, false, 'native', true), f('b', 1, false, 'native', true), f('c', 1, false, 'native', false)];
    case 'andTriple':
      return [f('a', 1, true, 'native', true), f('b', 1, true, 'native', true), f('c', 1, true, 'native', false)];
    case 'trunc':
      return [f('r', 1, false, 'single', true), f('hi', 1, false, 'native', false), f('lo', 1, false, 'native', false)];
    case 'edabit':
      return [f('r', 1, false, 'native', true), f('s', 1, true, 'native', false)];
    case 'dabit':
      return [f('a', 1, false, 'native', false), f('x', 1, true, 'native', false)];
    case 'matTriple': {
      const { m = 0, k = 0, n = 0 } = req;
      return [f('a', m * k, false, 'native', true), f('b', k * n, false, 'native', true), f('c', m * n, false, 'native', false)];
    }
  }
}

/**
 * Components of a field held by `party`.
 * @example
 * ```ts
 * heldComponents(2, 3, true, 'native'); // [2, 0]
 * ```
 */
export function heldComponents(party: number, parties: number, replicated: boolean, holders: 'native' | 'single'): number[] {
  return replicated && holders === 'native' ? [party, (party + 1) % parties] : [party];
}

/** Plain values of the derived fields, from the plain values of the random ones. */
function derive(req: MaterialRequest, random: Map<string, BigUint64Array>, rng: Rng): Map<string, BigUint64Array> {
  const out = new Map<string, BigUint64Array>();
  const count = req.count;
  switch (req.kind) {
    case 'triple': {
      const a = random.get('a') as BigUint64Array;
      const b = random.get('b') as BigUint64Array;
      const c = new BigUint64Array(count);
      for (let i = 0; i < count; i++) c[i] = BigInt.asUintN(64, a[i] * b[i]);
      out.set('c', c);
      break;
    }
    case 'andTriple': {
      const a = random.get('a') as BigUint64Array;
      const b = random.get('b') as BigUint64Array;
      const c = new BigUint64Array(count);
      for (let i = 0; i < count; i++) c[i] = a[i] & b[i];
      out.set('c', c);
      break;
    }
    case 'trunc': {
      const r = random.get('r') as BigUint64Array;
      const hi = new BigUint64Array(count);
      const lo = new BigUint64Array(count);
      const sh = req.shift ?? 0;
      if (!Number.isInteger(sh) || sh < 1 || sh > 31) throw new RangeError(`shift must be an integer in [1, 31], got ${sh}`);
      if (!LITTLE_ENDIAN) throw new RangeError('truncation material needs a little-endian platform');
      // On 32-bit limbs: the shift amount is a variable, which BigInt shifts handle an order of magnitude slower.
      const w = new Uint32Array(r.buffer, r.byteOffset, 2 * count);
      const hw = new Uint32Array(hi.buffer, 0, 2 * count);
      const lw = new Uint32Array(lo.buffer, 0, 2 * count);
      const up = 32 - sh;
      for (let i = 0, j = 0; i < count; i++, j += 2) {
        const l = w[j];
        const h = w[j + 1];
        const h31 = h & 0x7fff_ffff;
        hw[j] = h >>> 31;
        lw[j] = ((l >>> sh) | (h31 << up)) >>> 0;
        lw[j + 1] = h31 >>> sh;
      }
      out.set('hi', hi);
      out.set('lo', lo);
      break;
    }
    case 'edabit': {
      const r = random.get('r') as BigUint64Array;
      const s = new BigUint64Array(count);
      for (let i = 0; i < count; i++) s[i] = 0n - r[i];
      out.set('s', s);
      break;
    }
    case 'dabit': {
      const bits = randomRing(count, rng);
      for (let i = 0; i < count; i++) bits[i] = bits[i] & 1n;
      out.set('a', bits);
      out.set('x', bits.slice());
      break;
    }
    case 'matTriple': {
      const { m = 0, k = 0, n = 0 } = req;
      const a = random.get('a') as BigUint64Array;
      const b = random.get('b') as BigUint64Array;
      const c = new BigUint64Array(count * m * n);
      for (let t = 0; t < count; t++) {
        c.set(matmul(a.subarray(t * m * k, (t + 1) * m * k), b.subarray(t * k * n, (t + 1) * k * n), m, k, n), t * m * n);
      }
      out.set('c', c);
      break;
    }
  }
  return out;
}

/** One component as the dealer ships it: a seed or the full array. */
type Component = { seed: Uint8Array } | { data: BigUint64Array };

/**
 * Dealer side: generates one request's material and returns, per party, the serialized message to send.
 * `rng` draws the seeds (default the CSPRNG; tests pass a seeded one).
 * @example
 * ```ts
 * const perParty = dealMaterial({ key: 'triple', kind: 'triple', count: 1024 }, 3, false);
 * ```
 */
export function dealMaterial(req: MaterialRequest, parties: number, replicated: boolean, rng: Rng = cryptoRng): Uint8Array[] {
  const specs = fieldsOf(req);
  const comps = new Map<string, Component[]>();
  const randomValues = new Map<string, BigUint64Array>();
  for (const spec of specs) {
    if (!spec.random) continue;
    const len = req.count * spec.perItem;
    const list: Component[] = [];
    const value = new BigUint64Array(len);
    for (let j = 0; j < parties; j++) {
      const seed = freshSeed(rng);
      const e = expand(seed, len);
      if (spec.xor) for (let i = 0; i < len; i++) value[i] = value[i] ^ e[i];
      else for (let i = 0; i < len; i++) value[i] = value[i] + e[i];
      list.push({ seed });
    }
    comps.set(spec.name, list);
    randomValues.set(spec.name, value);
  }
  const derived = derive(req, randomValues, rng);
  for (const spec of specs) {
    if (spec.random) continue;
    const len = req.count * spec.perItem;
    const last = (derived.get(spec.name) as BigUint64Array).slice();
    const list: Component[] = [];
    for (let j = 0; j < parties - 1; j++) {
      const seed = freshSeed(rng);
      const e = expand(seed, len);
      if (spec.xor) for (let i = 0; i < len; i++) last[i] = last[i] ^ e[i];
      else for (let i = 0; i < len; i++) last[i] = last[i] - e[i];
      list.push({ seed });
    }
    list.push({ data: last });
    comps.set(spec.name, list);
  }
  const header = new TextEncoder().encode(JSON.stringify(req));
  const out: Uint8Array[] = [];
  for (let p = 0; p < parties; p++) {
    const parts: Component[] = [];
    for (const spec of specs) {
      const list = comps.get(spec.name) as Component[];
      for (const c of heldComponents(p, parties, replicated, spec.holders)) parts.push(list[c]);
    }
    out.push(serialize(header, parts));
  }
  return out;
}

function pad8(n: number): number {
  return (n + 7) & ~7;
}

function serialize(header: Uint8Array, parts: Component[]): Uint8Array {
  let size = 8 + pad8(header.length);
  for (const c of parts) size += 8 + ('seed' in c ? SEED_BYTES : c.data.byteLength);
  const buf = new Uint8Array(size);
  const view = new DataView(buf.buffer);
  view.setUint32(0, header.length, true);
  buf.set(header, 8);
  let off = 8 + pad8(header.length);
  for (const c of parts) {
    if ('seed' in c) {
      view.setUint32(off, 0, true);
      buf.set(c.seed, off + 8);
      off += 8 + SEED_BYTES;
    } else {
      view.setUint32(off, 1, true);
      buf.set(new Uint8Array(c.data.buffer, c.data.byteOffset, c.data.byteLength), off + 8);
      off += 8 + c.data.byteLength;
    }
  }
  return buf;
}

/** One party's view of a batch: per field, its components (1 or 2 arrays). */
export interface Material {
  readonly request: MaterialRequest;
  readonly fields: Map<string, BigUint64Array[]>;
}

/**
 * Party side: parses and expands a dealer message. Throws `RangeError` when the message is malformed.
 * @example
 * ```ts
 * const material = receiveMaterial(bytes, 1, 3, false);
 * ```
 */
export function receiveMaterial(bytes: Uint8Array, party: number, parties: number, replicated: boolean): Material {
  if (bytes.byteOffset % 8 !== 0 || bytes.length < 8) throw new RangeError('dealer message is malformed');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const hlen = view.getUint32(0, true);
  if (8 + hlen > bytes.length) throw new RangeError('dealer message header is malformed');
  const request = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + hlen))) as MaterialRequest;
  let off = 8 + pad8(hlen);
  const fields = new Map<string, BigUint64Array[]>();
  for (const spec of fieldsOf(request)) {
    const len = request.count * spec.perItem;
    const list: BigUint64Array[] = [];
    for (let c = 0; c < heldComponents(party, parties, replicated, spec.holders).length; c++) {
      if (off + 8 > bytes.length) throw new RangeError('dealer message is truncated');
      const flag = view.getUint32(off, true);
      if (flag === 0) {
        if (off + 8 + SEED_BYTES > bytes.length) throw new RangeError('dealer message is truncated');
        list.push(expand(bytes.slice(off + 8, off + 8 + SEED_BYTES), len));
        off += 8 + SEED_BYTES;
      } else {
        if (off + 8 + len * 8 > bytes.length) throw new RangeError('dealer message is truncated');
        list.push(new BigUint64Array(bytes.buffer, bytes.byteOffset + off + 8, len));
        off += 8 + len * 8;
      }
    }
    fields.set(spec.name, list);
  }
  if (off !== bytes.length) throw new RangeError('dealer message has trailing bytes');
  return { request, fields };
}

/**
 * Largest batch the parties make at once without a dealer (items): a truncation pair's circuit holds about ten
 * arrays of 2 words per item, so 2^20 items keep a batch near 200 MB per party; a larger request is made in
 * batches of this size (11 more rounds each).
 */
const GENERATION_BATCH = 2 ** 20;

interface Waiter {
  count: number;
  resolve: () => void;
}

/**
 * FIFO pools of material per key on one party; `take` waits until enough has arrived. Party 0 asks the dealer
 * for what is missing (all parties consume in the same order, so one requester suffices).
 * @example
 * ```ts
 * const pool = new MaterialPool(party === 0 ? (req) => sendToDealer(req) : null);
 * const t = await pool.take({ key: 'triple', kind: 'triple', count: n });
 * ```
 */
export class MaterialPool {
  readonly #chunks = new Map<string, { material: Material; offset: number }[]>();
  readonly #available = new Map<string, number>();
  readonly #promised = new Map<string, number>();
  readonly #waiters = new Map<string, Waiter[]>();
  readonly #request: ((req: MaterialRequest) => void) | null;
  readonly #generate: ((req: MaterialRequest) => Promise<Material>) | null;

  /**
   * `request` is set on the party that asks the dealer (party 0). Without a dealer, `generate` makes the
   * material among the parties (every party calls it at the same point: they consume in the same order).
   */
  constructor(request: ((req: MaterialRequest) => void) | null, generate: ((req: MaterialRequest) => Promise<Material>) | null = null) {
    this.#request = request;
    this.#generate = generate;
  }

  /** Whether material is made by the parties themselves (no dealer). */
  get dealerFree(): boolean {
    return this.#generate !== null;
  }

  /**
   * Offline phase: orders `req` from the dealer (party 0; returns at once), or, without a dealer, makes it now
   * on every party.
   */
  async produce(req: MaterialRequest): Promise<void> {
    if (this.#generate === null) {
      this.prefetch(req);
      return;
    }
    await this.#make(req);
  }

  /**
   * Dealer-free: makes what is missing for `req.count` coming takes, now, in one batch per key (every party
   * calls it at the same point). With a dealer: {@link MaterialPool.reserve}.
   */
  async reserveMade(req: MaterialRequest): Promise<void> {
    if (this.#generate === null) {
      this.reserve(req);
      return;
    }
    const have = this.#available.get(req.key) ?? 0;
    if (have < req.count) await this.#make({ ...req, count: req.count - have });
  }

  async #make(req: MaterialRequest): Promise<void> {
    const generate = this.#generate as (r: MaterialRequest) => Promise<Material>;
    for (let done = 0; done < req.count; done += GENERATION_BATCH) {
      this.add(await generate({ ...req, count: Math.min(GENERATION_BATCH, req.count - done) }));
    }
  }

  /** Adds a batch that arrived from the dealer. */
  add(material: Material): void {
    const key = material.request.key;
    const list = this.#chunks.get(key) ?? [];
    list.push({ material, offset: 0 });
    this.#chunks.set(key, list);
    const avail = (this.#available.get(key) ?? 0) + material.request.count;
    this.#available.set(key, avail);
    const ws = this.#waiters.get(key);
    if (ws) {
      while (ws.length > 0 && ws[0].count <= avail) (ws.shift() as Waiter).resolve();
    }
  }

  /** Makes sure `count` more items of `req` beyond those promised are on their way (party 0 only). */
  ensure(req: MaterialRequest): void {
    if (this.#request === null) return;
    const have = this.#promised.get(req.key) ?? 0;
    if (have >= req.count) {
      this.#promised.set(req.key, have - req.count);
      return;
    }
    const deficit = req.count - have;
    this.#promised.set(req.key, 0);
    this.#request({ ...req, count: deficit });
  }

  /**
   * Makes sure `req.count` items are ordered for the coming takes (party 0 only): asks the dealer only for what
   * is not already on its way.
   */
  reserve(req: MaterialRequest): void {
    if (this.#request === null) return;
    const have = this.#promised.get(req.key) ?? 0;
    if (have >= req.count) return;
    this.#promised.set(req.key, req.count);
    this.#request({ ...req, count: req.count - have });
  }

  /** Orders material ahead of use (party 0 only); `take` later consumes it without asking again. */
  prefetch(req: MaterialRequest): void {
    if (this.#request === null) return;
    this.#promised.set(req.key, (this.#promised.get(req.key) ?? 0) + req.count);
    this.#request(req);
  }

  /** Waits until `count` items of `key` are available (without consuming them). */
  async waitFor(key: string, count: number): Promise<void> {
    if ((this.#available.get(key) ?? 0) >= count) return;
    await new Promise<void>((resolve) => {
      const ws = this.#waiters.get(key) ?? [];
      ws.push({ count, resolve });
      ws.sort((x, y) => x.count - y.count);
      this.#waiters.set(key, ws);
    });
  }

  /** Takes `req.count` items of `req.key`, asking the dealer first if needed. */
  async take(req: MaterialRequest): Promise<Map<string, BigUint64Array[]>> {
    if (this.#generate !== null) {
      const have = this.#available.get(req.key) ?? 0;
      if (have < req.count) await this.#make({ ...req, count: req.count - have });
    }
    this.ensure(req);
    await this.waitFor(req.key, req.count);
    const list = this.#chunks.get(req.key) as { material: Material; offset: number }[];
    const specs = fieldsOf(req);
    const out = new Map<string, BigUint64Array[]>();
    let need = req.count;
    const pieces: Map<string, BigUint64Array[]>[] = [];
    while (need > 0) {
      const head = list[0];
      const take = Math.min(need, head.material.request.count - head.offset);
      const piece = new Map<string, BigUint64Array[]>();
      for (const spec of specs) {
        const comps = head.material.fields.get(spec.name) as BigUint64Array[];
        piece.set(
          spec.name,
          comps.map((c) => c.subarray(head.offset * spec.perItem, (head.offset + take) * spec.perItem)),
        );
      }
      pieces.push(piece);
      head.offset += take;
      need -= take;
      if (head.offset === head.material.request.count) list.shift();
    }
    this.#available.set(req.key, (this.#available.get(req.key) ?? 0) - req.count);
    for (const spec of specs) {
      if (pieces.length === 1) {
        out.set(spec.name, pieces[0].get(spec.name) as BigUint64Array[]);
        continue;
      }
      const width = (pieces[0].get(spec.name) as BigUint64Array[]).length;
      const comps: BigUint64Array[] = [];
      for (let w = 0; w < width; w++) {
        const arr = new BigUint64Array(req.count * spec.perItem);
        let off = 0;
        for (const p of pieces) {
          const c = (p.get(spec.name) as BigUint64Array[])[w];
          arr.set(c, off);
          off += c.length;
        }
        comps.push(arr);
      }
      out.set(spec.name, comps);
    }
    return out;
  }
}
