/**
 * How rows are packed into CKKS slots, and the framing of encrypted rows and scores on the wire.
 *
 * - Column layout (throughput): ciphertext (b, j) holds feature j of samples b·S … b·S + S − 1, S = N/2 slots
 *   (4,096 at N = 8192). A dense layer is then a sum of ciphertext × scalar products: no rotations and no Galois
 *   keys at all, only relinearisation keys for polynomial activations. This is the "vertical" packing of
 *   Kim et al. (eprint 2018/462 §4) applied to inference.
 * - Row layout (latency): each sample occupies a block of W = 2^⌈log2 features⌉ consecutive slots, S/W samples
 *   per ciphertext; a dot product is one plaintext product and log2 W rotate-and-add steps (Halevi and Shoup,
 *   "Algorithms in HElib", §4 "total sums"), so Galois keys are generated for steps 1, 2, …, W/2 only.
 * @module
 */
import { describeValue } from '@ppml/core';
import { HeFormatError } from './errors.ts';
import { type UncheckedBytes, WireKind, type WireReader, WireWriter } from './wire.ts';
import type { PostProcess } from './models.ts';

/** Packing of samples into slots. */
export type Layout = 'column' | 'row';

/**
 * Block width of the row layout for `features` features: the next power of two.
 * @example
 * ```ts
 * rowBlockWidth(30); // 32
 * ```
 */
export function rowBlockWidth(features: number): number {
  let w = 1;
  while (w < features) w *= 2;
  return w;
}

/**
 * Rotation steps the row layout needs for `features` features: 1, 2, …, W/2.
 * @example
 * ```ts
 * rowRotations(30); // [1, 2, 4, 8, 16]
 * ```
 */
export function rowRotations(features: number): number[] {
  const out: number[] = [];
  for (let s = 1; s < rowBlockWidth(features); s *= 2) out.push(s);
  return out;
}

/** Header fields of an encrypted-rows message. */
export interface RowsHeader {
  readonly layout: Layout;
  readonly rows: number;
  readonly features: number;
  /** Samples per ciphertext. */
  readonly perCiphertext: number;
  /** Ciphertexts per batch: `features` (column) or 1 (row). */
  readonly perBatch: number;
  readonly batches: number;
  /** Serialised ciphertexts whose CRCs are checked just before they are loaded. */
  readonly ciphertexts: readonly UncheckedBytes[];
}

/** What {@link writeRows} needs. */
export interface RowsContent {
  readonly layout: Layout;
  readonly rows: number;
  readonly features: number;
  readonly perCiphertext: number;
  readonly ciphertexts: readonly Uint8Array[];
  /** CRC-32 of each ciphertext when already computed (e.g. by the encryption workers); computed here otherwise. */
  readonly crcs?: Uint32Array;
}

/** Header fields of an encrypted-scores message. */
export interface ScoresHeader {
  readonly layout: Layout;
  readonly rows: number;
  readonly outputs: number;
  readonly perCiphertext: number;
  /** Slot distance between samples (1 in the column layout, W in the row layout). */
  readonly stride: number;
  readonly post: PostProcess;
  readonly ciphertexts: readonly Uint8Array[];
}

const LAYOUT_CODE: Record<Layout, number> = { column: 0, row: 1 };
const POST_CODE: Record<PostProcess, number> = { none: 0, sigmoid: 1, softmax: 2 };

function layoutFrom(code: number, what: string): Layout {
  if (code === 0) return 'column';
  if (code === 1) return 'row';
  throw new HeFormatError(`${what} name an unknown layout ${code}`);
}

/**
 * Writes an encrypted-rows message.
 * @example
 * ```ts
 * const bytes = writeRows(ctx.parameterHash, keyId, { layout: 'column', rows: 1, features: 2, perCiphertext: 4096, ciphertexts });
 * ```
 */
export function writeRows(hash: Uint8Array, keyId: Uint8Array, h: RowsContent): Uint8Array {
  const w = new WireWriter().u8(LAYOUT_CODE[h.layout]).u32(h.rows).u32(h.features).u32(h.perCiphertext).u32(h.ciphertexts.length);
  const crcs = h.crcs;
  if (crcs !== undefined && crcs.length !== h.ciphertexts.length) {
    throw new RangeError(`crcs must hold one CRC per ciphertext (${h.ciphertexts.length}), got ${crcs.length}`);
  }
  h.ciphertexts.forEach((c, i) => {
    w.bytes(c, crcs?.[i]);
  });
  return w.finish(WireKind.encryptedRows, hash, keyId);
}

/**
 * Reads and checks the framing of an encrypted-rows message (the ciphertexts are views into `r`'s bytes).
 * @example
 * ```ts
 * const h = readRows(openMessage(bytes, WireKind.encryptedRows, hash, keyId, 'encRows').reader, 4096, 'encRows');
 * ```
 */
export function readRows(r: WireReader, slots: number, what: string): RowsHeader {
  const layout = layoutFrom(r.u8(), what);
  const rows = r.u32();
  const features = r.u32();
  const perCiphertext = r.u32();
  const count = r.u32();
  const perBatch = layout === 'column' ? features : 1;
  const expectedPer = layout === 'column' ? slots : slots / rowBlockWidth(features);
  if (rows < 1 || features < 1 || perCiphertext !== expectedPer || !Number.isInteger(expectedPer)) {
    throw new HeFormatError(`${what} have an inconsistent header (rows ${rows}, features ${features}, ${perCiphertext} per ciphertext)`);
  }
  const batches = Math.ceil(rows / perCiphertext);
  if (count !== batches * perBatch) {
    throw new HeFormatError(`${what} announce ${count} ciphertexts; ${rows} rows of ${features} features need ${batches * perBatch}`);
  }
  const ciphertexts: UncheckedBytes[] = [];
  for (let i = 0; i < count; i++) ciphertexts.push(r.uncheckedBytes());
  r.end();
  return { layout, rows, features, perCiphertext, perBatch, batches, ciphertexts };
}

/**
 * Writes an encrypted-scores message.
 * @example
 * ```ts
 * const bytes = writeScores(hash, keyId, { layout: 'column', rows, outputs: 1, perCiphertext: 4096, stride: 1, post: 'none', ciphertexts });
 * ```
 */
export function writeScores(hash: Uint8Array, keyId: Uint8Array, h: ScoresHeader): Uint8Array {
  const w = new WireWriter()
    .u8(LAYOUT_CODE[h.layout])
    .u32(h.rows)
    .u32(h.outputs)
    .u32(h.perCiphertext)
    .u32(h.stride)
    .u8(POST_CODE[h.post])
    .u32(h.ciphertexts.length);
  for (const c of h.ciphertexts) w.bytes(c);
  return w.finish(WireKind.encryptedScores, hash, keyId);
}

/**
 * Reads an encrypted-scores message.
 * @example
 * ```ts
 * const h = readScores(openMessage(bytes, WireKind.encryptedScores, hash, keyId, 'encScores').reader, 4096, 'encScores');
 * ```
 */
export function readScores(r: WireReader, slots: number, what: string): ScoresHeader {
  const layout = layoutFrom(r.u8(), what);
  const rows = r.u32();
  const outputs = r.u32();
  const perCiphertext = r.u32();
  const stride = r.u32();
  const postCode = r.u8();
  const post = (['none', 'sigmoid', 'softmax'] as const)[postCode];
  if (post === undefined) throw new HeFormatError(`${what} name an unknown output head ${postCode}`);
  const count = r.u32();
  if (rows < 1 || outputs < 1 || stride < 1 || perCiphertext < 1 || perCiphertext * stride > slots) {
    throw new HeFormatError(`${what} have an inconsistent header (rows ${rows}, outputs ${outputs}, stride ${stride})`);
  }
  const batches = Math.ceil(rows / perCiphertext);
  if (count !== batches * outputs) {
    throw new HeFormatError(`${what} announce ${count} ciphertexts, expected ${batches * outputs}`);
  }
  const ciphertexts: Uint8Array[] = [];
  for (let i = 0; i < count; i++) ciphertexts.push(r.bytes());
  r.end();
  return { layout, rows, outputs, perCiphertext, stride, post, ciphertexts };
}

/**
 * Checks a layout option.
 * @example
 * ```ts
 * checkLayout('row'); // 'row'
 * ```
 */
export function checkLayout(layout: unknown): Layout {
  if (layout === 'column' || layout === 'row') return layout;
  throw new RangeError(`layout must be 'column' or 'row', got ${describeValue(layout)}`);
}
