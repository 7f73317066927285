/**
 * Server-side evaluation shared by the main thread and the worker threads: loading evaluation keys (checking
 * their parameter hash against a context rebuilt from the plan they carry), and a compiled model that turns the
 * serialised ciphertexts of one batch into serialised output ciphertexts, switched down to the reply level.
 * Every SEAL object created here is released before the call returns, whatever happens.
 * @module
 */
import type { Ciphertext, GaloisKeys, RelinKeys } from 'node-seal';
import { type HeContext, acquireContext } from './context.ts';
import { HeFormatError } from './errors.ts';
import { CkksOps } from './evaluate.ts';
import { type Layout, rowBlockWidth, rowRotations } from './layout.ts';
import { type ModelLayout, type ModelSpec, layoutFor } from './models.ts';
import { type CkksPlan, planFromJSON } from './planner.ts';
import { sealCall } from './seal.ts';
import { checkCiphertext, checkSealHeader } from './seal-object.ts';
import { type UncheckedBytes, WireKind, equalBytes, openMessage, verifyContent } from './wire.ts';

/** Evaluation keys loaded into a context. */
export interface LoadedKeys extends Disposable {
  readonly ctx: HeContext;
  readonly plan: CkksPlan;
  readonly layout: Layout;
  readonly features: number | undefined;
  /** Key id of the client that made the keys (rows must carry the same). */
  readonly keyId: Uint8Array;
  readonly relinKeys: RelinKeys;
  readonly galoisKeys: GaloisKeys | undefined;
  dispose(): void;
}

/**
 * Parses an evaluation-keys message and loads its keys; throws {@link HeFormatError} for bad bytes.
 * @example
 * ```ts
 * using keys = await loadEvaluationKeys(bytes);
 * ```
 */
export async function loadEvaluationKeys(bytes: Uint8Array): Promise<LoadedKeys> {
  const { header, reader: r } = openMessage(bytes, WireKind.evaluationKeys, undefined, undefined, 'evalKeys');
  const keyId = header.keyId.slice();
  const meta = r.json() as Record<string, unknown> | null;
  const relinBytes = r.bytes();
  const galoisBytes = r.bytes();
  r.end();
  if (meta === null || typeof meta !== 'object') throw new HeFormatError('evalKeys hold no parameter description');
  let plan: CkksPlan;
  try {
    plan = planFromJSON(meta.plan);
  } catch (e) {
    throw new HeFormatError('evalKeys hold an invalid parameter plan', { cause: e });
  }
  const layout: Layout = meta.layout === 'row' ? 'row' : 'column';
  const features = typeof meta.features === 'number' ? meta.features : undefined;
  if (layout === 'row' && (features === undefined || rowRotations(features).join() !== plan.rotations.join())) {
    throw new HeFormatError('evalKeys for the row layout must name the feature count matching their rotations');
  }
  const ctx = await acquireContext(plan);
  let relinKeys: RelinKeys | undefined;
  let galoisKeys: GaloisKeys | undefined;
  try {
    if (!equalBytes(header.parameterHash, ctx.parameterHash)) {
      throw new HeFormatError('evalKeys do not match the parameters they describe', { reason: 'parameters' });
    }
    const rk = new ctx.seal.RelinKeys();
    relinKeys = rk;
    checkSealHeader(relinBytes, 'evalKeys');
    sealCall('loading relinearisation keys', () => rk.loadFromArray(ctx.context, relinBytes), true);
    if (galoisBytes.length > 0) {
      const gk = new ctx.seal.GaloisKeys();
      galoisKeys = gk;
      checkSealHeader(galoisBytes, 'evalKeys');
      sealCall('loading Galois keys', () => gk.loadFromArray(ctx.context, galoisBytes), true);
    } else if (plan.rotations.length > 0) {
      throw new HeFormatError('evalKeys lack the Galois keys their plan needs');
    }
  } catch (e) {
    relinKeys?.delete();
    galoisKeys?.delete();
    ctx.release();
    throw e;
  }
  const rk = relinKeys;
  const gk = galoisKeys;
  let done = false;
  const dispose = (): void => {
    if (done) return;
    done = true;
    rk.delete();
    gk?.delete();
    ctx.release();
  };
  return { ctx, plan, layout, features, keyId, relinKeys: rk, galoisKeys: gk, dispose, [Symbol.dispose]: dispose };
}

/**
 * A model bound to loaded keys: encoded constants are cached across batches.
 * @example
 * ```ts
 * using m = new CompiledModel(keys, spec);
 * const outs = m.evaluateBatch(batchCiphertexts);
 * ```
 */
export class CompiledModel implements Disposable {
  readonly spec: ModelSpec;
  readonly layout: ModelLayout;
  readonly dataLayout: Layout;
  readonly #keys: LoadedKeys;
  readonly #ops: CkksOps;
  readonly #tiled: Float64Array[];

  constructor(keys: LoadedKeys, spec: ModelSpec) {
    this.#keys = keys;
    this.spec = spec;
    const ctx = keys.ctx;
    if (keys.layout === 'row' && spec.layers.length !== 1) {
      throw new RangeError("models with hidden layers need the 'column' layout (the row layout supports one dense layer)");
    }
    this.layout = layoutFor(spec, keys.plan, (level) => ctx.headroom(level));
    this.dataLayout = keys.layout;
    this.#tiled = [];
    if (keys.layout === 'row') {
      const layer = spec.layers[0];
      if (keys.features !== layer.inputs) {
        throw new RangeError(`the model takes ${layer.inputs} features but the keys were made for rows of ${keys.features}`);
      }
      const W = rowBlockWidth(layer.inputs);
      for (let k = 0; k < layer.outputs; k++) {
        let big = 0;
        for (let j = 0; j < layer.inputs; j++) big = Math.max(big, Math.abs(layer.weights[k * layer.inputs + j]));
        if (big * ctx.primes[ctx.topLevel] < 1) {
          throw new RangeError(`output ${k} has only zero (or below 2^-${keys.plan.scaleBits}) weights: it is a constant`);
        }
        const v = new Float64Array(ctx.slots);
        for (let b = 0; b < ctx.slots; b += W) for (let j = 0; j < layer.inputs; j++) v[b + j] = layer.weights[k * layer.inputs + j];
        this.#tiled.push(v);
      }
    }
    this.#ops = new CkksOps(ctx, keys.relinKeys, keys.galoisKeys);
  }

  /** Encoded constants held (for tests of the cache). */
  get cachedPlaintexts(): number {
    return this.#ops.cachedPlaintexts;
  }

  #load(input: UncheckedBytes, owned: Ciphertext[]): Ciphertext {
    const ctx = this.#keys.ctx;
    const bytes = verifyContent(input, 'encRows');
    checkSealHeader(bytes, 'encRows');
    const ct = new ctx.seal.Ciphertext();
    owned.push(ct);
    sealCall('loading an input ciphertext', () => ct.loadFromArray(ctx.context, bytes), true);
    // A fresh encryption at the planned level and scale, and nothing else (see seal-object.ts).
    checkCiphertext(ct, ctx, 'encRows', { level: ctx.topLevel, scale: ctx.scale });
    return ct;
  }

  #activate(xs: Ciphertext[], step: ModelSpec['activation'], owned: Ciphertext[]): Ciphertext[] {
    if (step === undefined) return xs;
    const ctx = this.#keys.ctx;
    return xs.map((x) => {
      const y = this.#ops.polynomial(x, step.coefficients, ctx.scale);
      owned.push(y);
      return y;
    });
  }

  /** Evaluates one batch: `perBatch` serialised inputs in (CRC-checked here), one serialised ciphertext per output out. */
  evaluateBatch(inputs: readonly UncheckedBytes[]): Uint8Array[] {
    const ctx = this.#keys.ctx;
    const ops = this.#ops;
    const owned: Ciphertext[] = [];
    try {
      let cur: Ciphertext[];
      if (this.dataLayout === 'column') {
        cur = inputs.map((b) => this.#load(b, owned));
        this.spec.layers.forEach((layer, i) => {
          const outs: Ciphertext[] = [];
          for (let k = 0; k < layer.outputs; k++) {
            const y = ops.linear(cur, layer.weights.subarray(k * layer.inputs, (k + 1) * layer.inputs), layer.bias[k], ctx.scale);
            owned.push(y);
            outs.push(y);
          }
          cur = this.#activate(outs, i < this.spec.layers.length - 1 ? this.spec.activation : this.spec.output, owned);
        });
      } else {
        const x = this.#load(inputs[0], owned);
        const layer = this.spec.layers[0];
        const W = rowBlockWidth(layer.inputs);
        const l = ops.level(x);
        const ptScale = (ctx.scale * ctx.primes[l]) / x.scale();
        const outs: Ciphertext[] = [];
        for (let k = 0; k < layer.outputs; k++) {
          const y = ops.newCiphertext();
          owned.push(y);
          const pt = ops.vector(`w${k}`, this.#tiled[k], ptScale, l);
          sealCall('multiplying by the weights', () => ctx.evaluator.multiplyPlain(x, pt, y));
          ops.rescaleTo(y, ctx.scale);
          ops.sumBlocks(y, W);
          ops.addConst(y, layer.bias[k]);
          outs.push(y);
        }
        cur = this.#activate(outs, this.spec.output, owned);
      }
      const none = ctx.seal.ComprModeType.none;
      return cur.map((y) => {
        ops.dropTo(y, Math.min(this.layout.replyLevel, ops.level(y)));
        return y.saveToArray(none) as Uint8Array;
      });
    } finally {
      for (const c of owned) c.delete();
    }
  }

  /** Frees the cached plaintexts (the keys belong to the caller). */
  dispose(): void {
    this.#ops.dispose();
  }

  [Symbol.dispose](): void {
    this.dispose();
  }
}
