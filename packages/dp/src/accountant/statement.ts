/**
 * A privacy statement for DP-SGD in the style of TF Privacy's `compute_dp_sgd_privacy_statement`: the training
 * setup, example-level ε with and without the Poisson-sampling assumption, optionally user-level ε by group
 * privacy (without sampling: the Gaussian with noise multiplier σ/k, exact; with Poisson sampling: Vadhan 2017,
 * Lemma 2.2, with the tighter penultimate bound δ_user = δ·(e^{kε} − 1)/(e^ε − 1), solved for the example-level
 * δ by the line search and bisection of TF Privacy), and a closing paragraph that states everything the
 * numbers assumed: accountant, orders and conversion (or PLD grid), sampling, neighbouring relation, δ.
 * With `details: false` and the same inputs and orders, the text is TF Privacy's, character for character.
 * @module
 */
import { assertDelta, assertFunction, assertInteger, assertOptions, assertPositive, describeValue } from '@ppml/core';
import { checkConversion, checkCount, checkNoiseMultiplier, checkOrders, checkSampleRate } from './internal-args.ts';
import { type AccountantKind, accountantLabel, checkAccountantKind, createAccountant } from './registry.ts';
import { type DpEvent, gaussianEvent, poissonSampledEvent } from './events.ts';
import { logExpm1 } from './internal-log-math.ts';
import { DEFAULT_RDP_ORDERS, DP_ACCOUNTING_RDP_ORDERS, TF_PRIVACY_RDP_ORDERS } from './orders.ts';
import type { RdpConversion, RdpOrders } from './rdp.ts';

/** Options of {@link privacyStatement} (stable: DP-SGD passes its training parameters here). */
export interface PrivacyStatementOptions {
  /** Noise standard deviation / clipping norm. */
  noiseMultiplier: number;
  /** δ in (0, 1). */
  delta: number;
  /** A registered accountant ('pld', 'rdp' or 'basic'). */
  accountant: AccountantKind;
  /** Poisson rate q; default batchSize / datasetSize. */
  sampleRate?: number;
  /** Number of Poisson-sampled steps; default ceil(epochs / q) (as TF Privacy). */
  steps?: number;
  /** Epochs (may be fractional); default steps·q. Without Poisson sampling, ceil(epochs) passes are counted. */
  epochs?: number;
  /** Number of training examples (printed; with batchSize gives q). */
  datasetSize?: number;
  /** (Expected) examples per step (printed; with datasetSize gives q). */
  batchSize?: number;
  /**
   * Whether gradients were clipped per microbatch of several examples; doubles the sensitivity under
   * add-or-remove-one (halves the effective noise multiplier). Default false (ppml clips per example).
   */
  usedMicrobatching?: boolean;
  /** Bound on examples per user: adds user-level ε by group privacy. */
  maxExamplesPerUser?: number;
  /** RDP orders (default {@link DEFAULT_RDP_ORDERS}). */
  orders?: RdpOrders;
  /** RDP conversion (default 'balle2020'). */
  conversion?: RdpConversion;
  /** Append the paragraph of accounting details (default true). */
  details?: boolean;
  /** Where PLD fallback warnings go. */
  onWarning?: (message: string) => void;
}

/** Greedy word wrap at `width` columns (as Python's textwrap.fill). */
function fill(text: string, width = 80): string {
  const words = text.split(/\s+/).filter((w) => w.length > 0);
  const lines: string[] = [];
  let line = '';
  for (const w of words) {
    if (line.length === 0) line = w;
    else if (line.length + 1 + w.length <= width) line += ` ${w}`;
    else {
      lines.push(line);
      line = w;
    }
  }
  if (line.length > 0) lines.push(line);
  return lines.join('\n');
}

/** A float as Python's repr prints it (2 -> '2.0', 1e-6 -> '1e-06'). */
function pyFloat(x: number): string {
  if (!Number.isFinite(x)) return x > 0 ? 'inf' : x < 0 ? '-inf' : 'nan';
  const ax = Math.abs(x);
  if (x !== 0 && (ax < 1e-4 || ax >= 1e16)) {
    const [m, e] = x.toExponential().split('e');
    const sign = e.startsWith('-') ? '-' : '+';
    const digits = e.replace(/^[+-]/, '').padStart(2, '0');
    return `${m}e${sign}${digits}`;
  }
  const s = String(x);
  return Number.isInteger(x) ? `${s}.0` : s;
}

function fixed12(x: number): string {
  return x === Infinity ? '    inf (**)' : x.toFixed(3).padStart(12, ' ');
}

/** Describes an order list for the details paragraph. */
function describeOrders(orders: Float64Array): string {
  const same = (list: readonly number[]): boolean => list.length === orders.length && list.every((v, i) => v === orders[i]);
  const name = same(DEFAULT_RDP_ORDERS)
    ? " (Opacus's default list: 1.1 to 10.9 by 0.1, then 12 to 63)"
    : same(DP_ACCOUNTING_RDP_ORDERS)
      ? " (dp_accounting's default list)"
      : same(TF_PRIVACY_RDP_ORDERS)
        ? " (TF Privacy's compute_dp_sgd_privacy list)"
        : '';
  return `${orders.length} orders from ${orders[0]} to ${orders[orders.length - 1]}${name}`;
}

interface Scenario {
  epsilonAt(delta: number): number;
}

function scenario(
  kind: AccountantKind,
  event: DpEvent,
  count: number,
  orders: Float64Array,
  conversion: RdpConversion,
  onWarning: ((m: string) => void) | undefined,
): Scenario {
  const acc = createAccountant(kind, { orders, conversion, onWarning }).compose(event, count);
  return { epsilonAt: (d) => acc.getEpsilon(d) };
}

/**
 * User-level ε by group privacy for k examples per user from an example-level ε(δ) curve (Vadhan 2017,
 * Lemma 2.2, with δ_user = δ·(e^{kε} − 1)/(e^ε − 1), solved for the example-level δ); Infinity when no finite
 * bound follows.
 * @internal
 * @example
 * ```ts
 * groupPrivacyEpsilon((d) => acc.getEpsilon(d), 1e-5, 3);
 * ```
 */
export function groupPrivacyEpsilon(epsAt: (d: number) => number, userDelta: number, k: number): number {
  if (k === 1) return epsAt(userDelta);
  const target = Math.log(userDelta);
  const gap = (logDeltaEx: number): number => {
    const e = epsAt(Math.exp(logDeltaEx));
    if (e === 0) return logDeltaEx - target;
    return logDeltaEx + logExpm1(k * e) - logExpm1(e) - target;
  };
  let hi = target;
  let lo = hi - Math.LN10;
  let gLo = gap(lo);
  while (gLo > 0) {
    hi = lo - gLo;
    lo = hi - Math.LN10;
    if (lo < -700) return Infinity;
    gLo = gap(lo);
    if (!Number.isFinite(gLo)) return Infinity;
  }
  for (let it = 0; it < 200 && hi - lo > 1e-12; it++) {
    const mid = 0.5 * (lo + hi);
    if (gap(mid) > 0) hi = mid;
    else lo = mid;
  }
  return k * epsAt(Math.exp(lo));
}

/**
 * A human-readable privacy statement for DP-SGD (see the module description for what it states).
 * @example
 * ```ts
 * console.log(privacyStatement({
 *   noiseMultiplier: 1.1, datasetSize: 60000, batchSize: 256, epochs: 10, delta: 1e-5, accountant: 'rdp',
 * }));
 * ```
 */
export function privacyStatement(options: PrivacyStatementOptions): string {
  assertOptions('options', options, [
    'noiseMultiplier',
    'delta',
    'accountant',
    'sampleRate',
    'steps',
    'epochs',
    'datasetSize',
    'batchSize',
    'usedMicrobatching',
    'maxExamplesPerUser',
    'orders',
    'conversion',
    'details',
    'onWarning',
  ]);
  assertFunction('onWarning', options.onWarning, true);
  const {
    noiseMultiplier,
    delta,
    accountant,
    datasetSize,
    batchSize,
    usedMicrobatching = false,
    maxExamplesPerUser,
    conversion = 'balle2020',
    details = true,
    onWarning,
  } = options;
  checkNoiseMultiplier(noiseMultiplier);
  assertDelta(delta);
  checkAccountantKind(accountant);
  checkConversion(conversion);
  const orders = checkOrders(options.orders);
  if (datasetSize !== undefined) assertInteger('datasetSize', datasetSize, 1);
  if (batchSize !== undefined) assertInteger('batchSize', batchSize, 1, datasetSize ?? Number.MAX_SAFE_INTEGER);
  if (maxExamplesPerUser !== undefined) assertInteger('maxExamplesPerUser', maxExamplesPerUser, 1);
  if (typeof usedMicrobatching !== 'boolean') {
    throw new TypeError(`usedMicrobatching must be a boolean, got ${describeValue(usedMicrobatching)}`);
  }
  let q = options.sampleRate;
  if (q === undefined) {
    if (datasetSize === undefined || batchSize === undefined) {
      throw new TypeError('sampleRate must be a number in (0, 1] (or give datasetSize and batchSize), got undefined');
    }
    q = batchSize / datasetSize;
  }
  checkSampleRate(q);
  let epochs = options.epochs;
  let steps = options.steps;
  if (epochs !== undefined) assertPositive('epochs', epochs);
  if (steps !== undefined) assertInteger('steps', steps, 1);
  if (steps === undefined) {
    if (epochs === undefined) throw new TypeError('steps must be a positive integer (or give epochs), got undefined');
    steps = Math.ceil(epochs / q);
  }
  epochs ??= steps * q;
  const passes = Math.ceil(epochs);
  // Both counts index compositions: they must be safe integers (a huge epochs or a tiny q is refused here).
  checkCount(steps, 'steps (ceil(epochs / sampleRate))');
  checkCount(passes, 'epochs (rounded up)');
  const sigma = usedMicrobatching ? noiseMultiplier / 2 : noiseMultiplier;
  const base = gaussianEvent(sigma);
  const noAmp = scenario(accountant, base, passes, orders, conversion, onWarning);
  const poisson = scenario(accountant, poissonSampledEvent(q, base), steps, orders, conversion, onWarning);
  const name = accountantLabel(accountant);

  const over =
    datasetSize !== undefined && batchSize !== undefined
      ? `over ${datasetSize} examples with ${batchSize} examples per iteration`
      : datasetSize !== undefined
        ? `over ${datasetSize} examples with sampling rate ${q} (about ${Math.round(q * datasetSize)} examples per iteration)`
        : `with sampling rate ${q}`;
  const setup =
    `DP-SGD performed ${over}, noise multiplier ${pyFloat(noiseMultiplier)} for ${pyFloat(epochs)} epochs ` +
    `${usedMicrobatching ? 'with' : 'without'} microbatching` +
    (maxExamplesPerUser === undefined
      ? ', and no bound on number of examples per user.'
      : `, and at most ${maxExamplesPerUser} examples per user.`);
  const paragraphs = [fill(setup)];
  paragraphs.push(fill('This privacy guarantee protects the release of all model checkpoints in addition to the final model.'));
  const exNoAmp = noAmp.epsilonAt(delta);
  const exPoisson = poisson.epsilonAt(delta);
  paragraphs.push(
    `${fill(`Example-level DP with add-or-remove-one adjacency at delta = ${pyFloat(delta)} computed with ${name} accounting:`)}\n` +
      `    Epsilon with each example occurring once per epoch:  ${fixed12(exNoAmp)}\n` +
      `    Epsilon assuming Poisson sampling (*):               ${fixed12(exPoisson)}`,
  );
  let infUser = false;
  if (maxExamplesPerUser === undefined) {
    paragraphs.push(fill('No user-level privacy guarantee is possible without a bound on the number of examples per user.'));
  } else {
    // Without sampling, k examples of one user move the clipped sum by at most k clipping norms: the
    // user-level mechanism is the same Gaussian with noise multiplier σ/k (exact group privacy).
    const uNoAmp = scenario(accountant, gaussianEvent(sigma / maxExamplesPerUser), passes, orders, conversion, onWarning).epsilonAt(delta);
    const uPoisson = groupPrivacyEpsilon((d) => poisson.epsilonAt(d), delta, maxExamplesPerUser);
    infUser = uNoAmp === Infinity || uPoisson === Infinity;
    paragraphs.push(
      `${fill(`User-level DP with add-or-remove-one adjacency at delta = ${pyFloat(delta)} computed using ${name} accounting and group privacy:`)}\n` +
        `    Epsilon with each example occurring once per epoch:  ${fixed12(uNoAmp)}\n` +
        `    Epsilon assuming Poisson sampling (*):               ${fixed12(uPoisson)}`,
    );
  }
  paragraphs.push(
    fill(
      '(*) Poisson sampling is not usually done in training pipelines, but assuming that the data was randomly ' +
        'shuffled, it is believed that the actual epsilon should be closer to this value than the conservative ' +
        'assumption of an arbitrary data order.',
    ),
  );
  if (infUser) {
    paragraphs.push(
      fill(
        '(**) A finite example-level epsilon implies a finite user-level epsilon at any `max_examples_per_user`, ' +
          'but because conversion from example-level to user-level DP is not exact, it is possible for the upper ' +
          'bound on the user-level epsilon to still be infinite.',
      ),
    );
  }
  if (details) {
    // The RDP sentence names the order list when it is a published one; every other accountant describes itself.
    const how =
      accountant === 'rdp'
        ? `Renyi DP over ${describeOrders(orders)}, converted to (epsilon, delta) with ` +
          (conversion === 'balle2020' ? 'the conversion of Balle et al. 2020 (Thm 21)' : 'the conversion of Mironov 2017 (Prop. 3)')
        : createAccountant(accountant, { orders, conversion }).describe();
    paragraphs.push(
      fill(
        `Accounting details: accountant ${how}. Neighbouring relation: add-or-remove-one example. ` +
          `Noise multiplier used: ${pyFloat(sigma)}${usedMicrobatching ? ' (half the stated one, because microbatching doubles the sensitivity)' : ''}. ` +
          `"Once per epoch": ${passes} composition(s) of the Gaussian mechanism, no amplification by sampling, any data order. ` +
          `"Poisson": ${steps} steps, each example included independently with probability ${q}. delta = ${pyFloat(delta)}.`,
      ),
    );
  }
  return `${paragraphs.join('\n\n')}\n`;
}
