/**
 * Logistic regression under secret sharing: inference with secret weights on secret rows, and full-batch
 * gradient-descent training on rows split across parties (horizontal partitioning), as in SecureML (Mohassel
 * and Zhang, S&P 2017, Sec. 4.1) but with the accurate sigmoid of `party.ts` instead of a piecewise one.
 * The weights stay secret until the caller reveals them.
 * @module
 */
import { assertFiniteArray, describeValue } from '@ppml/core';
import type { SecretTensor, SmpcSession } from '../session.ts';

/**
 * Probabilities sigmoid(x w + b) for secret rows x (rows x d), weights w (d x 1) and optional bias b (1 x 1).
 * Costs one matrix product, one comparison and about 20 multiplications per row.
 * @example
 * ```ts
 * const p = logisticRegressionPredict(session, x, w, b);
 * const probs = await session.reveal(p);
 * ```
 */
export function logisticRegressionPredict(
  session: SmpcSession,
  x: SecretTensor,
  weights: SecretTensor,
  bias?: SecretTensor,
): SecretTensor {
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
  /** Row-major features, rows x `features`. */
  readonly features: ArrayLike<number>;
  /** One label in {0, 1} per row. */
  readonly labels: ArrayLike<number>;
}

/** Options of {@link trainLogisticRegression}. */
export interface TrainingOptions {
  /** Number of feature columns. */
  readonly features: number;
  /** Full-batch gradient steps. Default 20. */
  readonly epochs?: number;
  /** Step size. Default 1. */
  readonly learningRate?: number;
}

/**
 * Trains logistic regression on rows split across parties: each part is secret-shared by its owner, then
 * `epochs` full-batch gradient steps w -= lr/N X^T (sigmoid(X w + b) - y) run on shares. Returns secret
 * weights (d x 1) and bias (1 x 1). Features should be scaled to about [-5, 5].
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
  const d = options.features;
  if (!Number.isInteger(d) || d < 1) throw new RangeError(`features must be an integer >= 1, got ${describeValue(d)}`);
  const epochs = options.epochs ?? 20;
  if (!Number.isInteger(epochs) || epochs < 1) throw new RangeError(`epochs must be an integer >= 1, got ${describeValue(epochs)}`);
  const lr = options.learningRate ?? 1;
  if (!(typeof lr === 'number' && lr > 0 && Number.isFinite(lr))) {
    throw new RangeError(`learningRate must be a finite number > 0, got ${describeValue(lr)}`);
  }
  if (!Array.isArray(parts) || parts.length === 0) throw new RangeError('parts must be a non-empty array');
  let total = 0;
  parts.forEach((p, i) => {
    assertFiniteArray(`parts[${i}].features`, p.features);
    assertFiniteArray(`parts[${i}].labels`, p.labels);
    if (p.features.length !== p.labels.length * d) {
      throw new RangeError(`parts[${i}].features must have labels.length * features = ${p.labels.length * d} values, got ${p.features.length}`);
    }
    for (let r = 0; r < p.labels.length; r++) {
      if (p.labels[r] !== 0 && p.labels[r] !== 1) throw new RangeError(`parts[${i}].labels[${r}] must be 0 or 1, got ${p.labels[r]}`);
    }
    total += p.labels.length;
  });
  const xs = await Promise.all(parts.map((p) => session.share(p.party, p.features, [p.labels.length, d])));
  const ys = await Promise.all(parts.map((p) => session.share(p.party, p.labels)));
  const x = xs.length === 1 ? xs[0] : session.concatRows(xs);
  const y = ys.length === 1 ? ys[0] : session.concatRows(ys);
  const xt = session.transpose(x);
  let w = await session.share(0, new Float64Array(d));
  let b = await session.share(0, new Float64Array(1));
  const step = lr / total;
  for (let e = 0; e < epochs; e++) {
    const p = logisticRegressionPredict(session, x, w, b);
    const err = session.sub(p, y);
    const g = session.matmul(xt, err);
    const gw = session.mulPublic(g, step);
    const se = session.sum(err);
    const gb = session.mulPublic(se, step);
    const w2 = session.sub(w, gw);
    const b2 = session.sub(b, gb);
    session.free(p, err, g, gw, se, gb, w, b);
    w = w2;
    b = b2;
  }
  session.free(xt);
  if (xs.length > 1) session.free(x, y);
  session.free(...xs, ...ys);
  await session.sync();
  return { weights: w, bias: b };
}
