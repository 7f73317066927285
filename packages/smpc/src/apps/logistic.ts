/**
 * Logistic regression under secret sharing: inference with secret weights on secret rows, and full-batch
 * gradient-descent training on rows split across parties (horizontal partitioning), as in SecureML (Mohassel
 * and Zhang, S&P 2017, Sec. 4.1) but with the accurate sigmoid of `party.ts` instead of a piecewise one.
 * The weights stay secret until the caller reveals them.
 * @module
 */
import { assertFiniteArray, assertOptions, describeValue } from '@ppml/core';
import { allKeys } from '../option-keys.ts';
import { SecretTensor, SmpcSession } from '../session.ts';

/**
 * Probabilities sigmoid(x w + b) for secret rows x (rows x d), weights w (d x 1) and optional bias b (1 x 1).
 * Costs one matrix product, one comparison and about 20 multiplications per row.
 * @example
 * ```ts
 * const p = logisticRegressionPredict(session, x, w, b);
 * const probs = await session.reveal(p);
 * ```
 */
export function logisticRegressionPredict(session: SmpcSession, x: SecretTensor, weights: SecretTensor, bias?: SecretTensor): SecretTensor {
  if (!(session instanceof SmpcSession)) throw new TypeError(`session must be an SmpcSession, got ${describeValue(session)}`);
  if (!(x instanceof SecretTensor)) throw new TypeError(`x must be a SecretTensor, got ${describeValue(x)}`);
  if (!(weights instanceof SecretTensor)) throw new TypeError(`weights must be a SecretTensor, got ${describeValue(weights)}`);
  if (bias !== undefined && !(bias instanceof SecretTensor)) throw new TypeError(`bias must be a SecretTensor, got ${describeValue(bias)}`);
  if (weights.cols !== 1) throw new RangeError(`weights must be d x 1, got ${weights.rows}x${weights.cols}`);
  if (bias !== undefined && bias.length !== 1) throw new RangeError(`bias must be 1 x 1, got ${bias.rows}x${bias.cols}`);
  const z = session.matmul(x, weights);
  if (bias === undefined) {
    const p = session.sigmoid(z);
    session.free(z);
    return p;
  }
  const zb = session.add(z, bias);
  const p = session.sigmoid(zb);
  session.free(z, zb);
  return p;
}

/** One party's rows for {@link trainLogisticRegression}. */
export interface TrainingPart {
  /** The party that holds these rows. */
  readonly party: number;
  /** Row-major features, rows x `features` (on the owner's process only, in a session across machines). */
  readonly features?: ArrayLike<number>;
  /** One label in {0, 1} per row (with `features`). */
  readonly labels?: ArrayLike<number>;
  /**
   * Number of rows, instead of `features` and `labels`: how the other processes of a session across machines
   * (`SmpcSession.connect`) describe a part that another party holds.
   */
  readonly rows?: number;
}

/** Options of {@link trainLogisticRegression}. */
export interface TrainingOptions {
  /** Number of feature columns. */
  readonly features: number;
  /** Full-batch gradient steps. Default 20. */
  readonly epochs?: number;
  /** Step size. Default 1. */
  readonly learningRate?: number;
  /**
   * Public bound on |feature| declared when the rows are shared (see `SmpcSession.share`). Default: the
   * session's `maxAbs`, lowered if needed so that every product of the training provably stays in the
   * fixed-point range for these features, rows, epochs and learning rate (it depends on those public values
   * only, never on the data). Standardized features are far inside it.
   */
  readonly maxAbs?: number;
}

/**
 * The largest feature bound B for which training stays in range: with labels in {0, 1} and a sigmoid in
 * [0, 1] (+ 1/64 margin), each step moves a weight by at most lr * B * 1.02, so after `epochs` steps
 * |x w + b| <= d * B * epochs * lr * B * 1.02 + epochs * lr * 1.02 must be below 2^(62 - 2f) (the truncation's
 * range), and so must the gradient's sum of N products, N * B * 1.02. A 10% margin absorbs rounding.
 */
function featureBound(session: SmpcSession, d: number, rows: number, epochs: number, lr: number): number {
  const limit = 2 ** (62 - 2 * session.fractionalBits) / 1.1;
  const step = epochs * lr * 1.02;
  const fromLogits = Math.sqrt(Math.max(0, limit - step) / (d * step));
  const fromGradient = limit / (rows * 1.02);
  return Math.min(session.maxAbs, fromLogits, fromGradient);
}

/**
 * Trains logistic regression on rows split across parties: each part is secret-shared by its owner, then
 * `epochs` full-batch gradient steps w -= lr/N X^T (sigmoid(X w + b) - y) run on shares. Returns secret
 * weights (d x 1) and bias (1 x 1). Features should be standardized; each must satisfy |x| <= `maxAbs` (see
 * {@link TrainingOptions.maxAbs}; 1024 for 30 features and 20 epochs at 16 fractional bits).
 * @example
 * ```ts
 * const model = await trainLogisticRegression(session, [
 *   { party: 0, features: x0, labels: y0 },
 *   { party: 1, features: x1, labels: y1 },
 * ], { features: 30, epochs: 20 });
 * const w = await session.reveal(model.weights);
 * ```
 */
export async function trainLogisticRegression(
  session: SmpcSession,
  parts: readonly TrainingPart[],
  options: TrainingOptions,
): Promise<{ weights: SecretTensor; bias: SecretTensor }> {
  if (!(session instanceof SmpcSession)) throw new TypeError(`session must be an SmpcSession, got ${describeValue(session)}`);
  assertOptions('options', options, allKeys<TrainingOptions>()('features', 'epochs', 'learningRate', 'maxAbs'));
  const d = options.features;
  if (!Number.isInteger(d) || d < 1) throw new RangeError(`features must be an integer >= 1, got ${describeValue(d)}`);
  const epochs = options.epochs ?? 20;
  if (!Number.isInteger(epochs) || epochs < 1) throw new RangeError(`epochs must be an integer >= 1, got ${describeValue(epochs)}`);
  const lr = options.learningRate ?? 1;
  if (!(typeof lr === 'number' && lr > 0 && Number.isFinite(lr))) {
    throw new RangeError(`learningRate must be a finite number > 0, got ${describeValue(lr)}`);
  }
  if (!Array.isArray(parts)) throw new TypeError(`parts must be a non-empty array, got ${describeValue(parts)}`);
  if (parts.length === 0) throw new RangeError('parts must be a non-empty array');
  for (let i = 0; i < parts.length; i++)
    assertOptions(`parts[${i}]`, parts[i], allKeys<TrainingPart>()('party', 'features', 'labels', 'rows'));
  const rowsOf = (p: TrainingPart | undefined): number =>
    p?.features === undefined && typeof p?.rows === 'number' ? p.rows : (p?.labels?.length ?? 0);
  let total = 0;
  const rows = parts.reduce((n, p) => n + rowsOf(p), 0);
  const bound = options.maxAbs ?? featureBound(session, d, Math.max(1, rows), epochs, lr);
  if (typeof bound !== 'number') throw new TypeError(`maxAbs must be a number, got ${describeValue(bound)}`);
  if (options.maxAbs === undefined && !(bound > 0)) {
    throw new RangeError(
      `epochs * learningRate = ${epochs * lr} leaves no feature bound that keeps training in the fixed-point range: use fewer epochs or a smaller learningRate`,
    );
  }
  if (!(bound > 0 && bound <= session.maxAbs)) {
    throw new RangeError(`maxAbs must be a number in (0, ${session.maxAbs}] (the session's maxAbs), got ${describeValue(bound)}`);
  }
  parts.forEach((p, i) => {
    if (p.features === undefined && p.labels === undefined) {
      // Another party's rows (a session across machines): only their number is known here.
      if (!Number.isInteger(p.rows) || (p.rows as number) < 1) {
        throw new RangeError(
          `parts[${i}].rows must be an integer >= 1 when features and labels are not given, got ${describeValue(p.rows)}`,
        );
      }
      total += p.rows as number;
      return;
    }
    if (p.features === undefined || p.labels === undefined)
      throw new TypeError(`parts[${i}] must give both features and labels, or rows alone`);
    if (p.rows !== undefined && p.rows !== p.labels.length)
      throw new RangeError(`parts[${i}].rows must equal labels.length, got ${describeValue(p.rows)}`);
    assertFiniteArray(`parts[${i}].features`, p.features);
    for (let j = 0; j < p.features.length; j++) {
      if (Math.abs(p.features[j]) > bound) {
        throw new RangeError(
          `parts[${i}].features[${j}] must have |x| <= ${bound} (the public feature bound ${options.maxAbs === undefined ? `that keeps ${d} features, ${epochs} epochs and learning rate ${lr} in the fixed-point range` : 'declared as maxAbs'}), got ${p.features[j]}: scale the features (standardize them) or use fewer epochs`,
        );
      }
    }
    assertFiniteArray(`parts[${i}].labels`, p.labels);
    if (p.features.length !== p.labels.length * d) {
      throw new RangeError(
        `parts[${i}].features must have labels.length * features = ${p.labels.length * d} values, got ${p.features.length}`,
      );
    }
    for (let r = 0; r < p.labels.length; r++) {
      if (p.labels[r] !== 0 && p.labels[r] !== 1) throw new RangeError(`parts[${i}].labels[${r}] must be 0 or 1, got ${p.labels[r]}`);
    }
    total += p.labels.length;
  });
  // Declared bounds are public: the feature bound comes from public parameters. Labels are shared as y - 1/2
  // (bound 1/2), so that the error (p - 1/2) - (y - 1/2) has the range of [0, 1] minus [0, 1], not of
  // [0, 1] minus [-1, 1]: the weights' bound then grows half as fast.
  const xs = await Promise.all(
    parts.map((p) =>
      p.features === undefined
        ? session.share(p.party, { rows: p.rows as number, cols: d }, undefined, { maxAbs: bound })
        : session.share(p.party, p.features, [(p.labels as ArrayLike<number>).length, d], { maxAbs: bound }),
    ),
  );
  const ys = await Promise.all(
    parts.map((p) =>
      p.labels === undefined
        ? session.share(p.party, { rows: p.rows as number, cols: 1 }, undefined, { maxAbs: 0.5 })
        : session.share(
            p.party,
            Float64Array.from(p.labels, (v: number) => v - 0.5),
            undefined,
            { maxAbs: 0.5 },
          ),
    ),
  );
  const x = xs.length === 1 ? xs[0] : session.concatRows(xs);
  const y = ys.length === 1 ? ys[0] : session.concatRows(ys);
  const xt = session.transpose(x);
  // Zero start weights, shared by party 0 (across machines the other processes give their shape).
  const zeros = (k: number): Promise<SecretTensor> =>
    session.party > 0
      ? session.share(0, { rows: k, cols: 1 }, undefined, { maxAbs: 2 ** -session.fractionalBits })
      : session.share(0, new Float64Array(k), undefined, { maxAbs: 2 ** -session.fractionalBits });
  let w = await zeros(d);
  let b = await zeros(1);
  const step = lr / total;
  for (let e = 0; e < epochs; e++) {
    const p = logisticRegressionPredict(session, x, w, b);
    const pc = session.addPublic(p, -0.5);
    const err = session.sub(pc, y);
    const g = session.matmul(xt, err);
    const gw = session.mulPublic(g, step);
    const se = session.sum(err);
    const gb = session.mulPublic(se, step);
    const w2 = session.sub(w, gw);
    const b2 = session.sub(b, gb);
    session.free(p, pc, err, g, gw, se, gb, w, b);
    w = w2;
    b = b2;
  }
  session.free(xt);
  if (xs.length > 1) session.free(x, y);
  session.free(...xs, ...ys);
  await session.sync();
  return { weights: w, bias: b };
}
