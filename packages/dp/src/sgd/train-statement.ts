/**
 * The privacy statement of a DP-SGD run: what was guaranteed (ε, δ, the unit of privacy and the neighbouring
 * relation, the accountant) and what it assumed (sampling, clipping, noise, N public), for papers and audits.
 * @module
 */
import { type Accountant, accountantLabel, createAccountant, type AccountantKind } from '../accountant/registry.ts';
import { gaussianEvent, poissonSampledEvent } from '../accountant/events.ts';
import { groupPrivacyEpsilon } from '../accountant/statement.ts';
import type { Clipping } from './clip.ts';
import type { ResolvedAdaptiveClipping } from './optimizer.ts';
import type { Plan } from './train-setup.ts';

/** What the statement needs to know about a finished run. */
export interface StatementInput {
  plan: Plan;
  /** σ: noise std / clip norm. */
  sigma: number;
  /** σ per unit of sensitivity as the accountant sees it (σ/2 for shuffled batches). */
  accountSigma: number;
  gradientSigma: number;
  delta: number;
  accountant: AccountantKind;
  /** How the run's accountant computes ε (`Accountant.describe()`). */
  accountantDescription: string;
  epsilon: number;
  clipping: Clipping;
  startClipNorm: number;
  adaptive: ResolvedAdaptiveClipping | null;
  accountQ: number;
  accountSteps: number;
  targetEpsilon: number | undefined;
  /** Set when the optimal RDP order of the final ε was the first or last of the list. */
  boundary: { order: number; low: boolean } | null;
  /** Warnings the accountant raised (each says what to do). */
  warnings: string[];
  maxExamplesPerUser: number | undefined;
  /** User-level training: the number of users and the largest number of examples of one user. */
  users: { count: number; maxRows: number } | null;
}

/** A figure for people: 4 significant digits (exact values stay in the result object). */
function fmt(x: number): string {
  return Number.isFinite(x) ? Number(x.toPrecision(4)).toString() : String(x);
}

/** ε for people: rounded UP to 3 significant digits, so the printed guarantee never under-reports. */
function fmtEpsilon(x: number): string {
  if (x === 0 || !Number.isFinite(x)) return String(x);
  const f = 10 ** (2 - Math.floor(Math.log10(x)));
  const up = Math.ceil(x * f) / f;
  return Number(up.toPrecision(3)).toString();
}

/** The privacy statement of a DP-SGD run (TF Privacy's `compute_dp_sgd_privacy_statement` in spirit). */
export function dpSgdStatement(s: StatementInput): string {
  const p = s.plan;
  const poisson = p.sampling === 'poisson';
  const name = accountantLabel(s.accountant);
  const user = s.users !== null;
  const relation = user
    ? 'add or remove one user with all of their examples'
    : poisson
      ? 'add or remove one example'
      : 'replace one example (N fixed)';
  const deltaText = s.delta.toExponential();
  const lines: string[] = [];
  lines.push(
    `Guarantee: (epsilon = ${fmtEpsilon(s.epsilon)}, delta = ${deltaText})-DP at the ${user ? 'user' : 'example'} level (neighbouring relation: ` +
      `${relation}), by the ${name} accountant, for the final model and every intermediate model. ` +
      'Epsilon is rounded up here; the exact value is result.epsilon. Loss and accuracy reports are not private.',
  );
  const whole = p.totalSteps === p.epochs * p.stepsPerEpoch;
  const population =
    s.users === null
      ? `N = ${p.n} examples. N is treated as public (as in Opacus): the sampling rate and the steps per epoch depend on it.`
      : `${s.users.count} users (at most ${s.users.maxRows} examples each). The number of users is treated as public: the ` +
        'sampling rate and the steps per epoch depend on it.';
  lines.push(
    (whole
      ? `Training: ${p.totalSteps} steps = ${p.epochs} epoch(s) of ${p.stepsPerEpoch} steps`
      : `Training: ${p.totalSteps} steps in ${p.epochs} epoch(s) of up to ${p.stepsPerEpoch} steps (the last one partial)`) +
      ` on ${population}`,
  );
  if (user) {
    lines.push(
      `Sampling: Poisson over users, each user joins each batch independently with probability q = ${fmt(p.q)} ` +
        `(expected ${fmt(p.expectedBatchSize)} users per batch) with all of their examples. Each sampled user's update ` +
        "(the mean gradient over the user's examples) is clipped to C as a whole (DP-FedAvg, McMahan, Ramage, Talwar, " +
        'Zhang 2018), so one user moves the noisy sum by at most C; the sum is divided by the expected number of users.',
    );
  } else if (poisson) {
    lines.push(
      `Sampling: Poisson, each example joins each batch independently with probability q = ${fmt(p.q)} ` +
        `(expected batch size ${fmt(p.expectedBatchSize)}); the noisy sum is divided by the expected batch size.`,
    );
  } else {
    const dropped = p.n % p.batchSize;
    lines.push(
      `Sampling: shuffled fixed-size batches of ${p.batchSize} (${p.stepsPerEpoch} per epoch` +
        (dropped > 0 ? `, ${dropped} example(s) of each permutation dropped` : '') +
        '), NOT Poisson: no amplification by sampling is claimed. Adding an example can displace another from its ' +
        'batch, so a batch sum can move by 2C; each epoch is accounted as one Gaussian mechanism with sensitivity 2C ' +
        'under the replace-one relation.',
    );
  }
  lines.push(
    `Noise multiplier sigma = ${fmt(s.sigma)}${s.targetEpsilon === undefined ? '' : ` (calibrated for target epsilon ${fmt(s.targetEpsilon)})`}; ` +
      `secure Gaussian noise (exact discrete Gaussian on a power-of-two grid g, the clipped sum rounded to the same grid) ` +
      (s.adaptive === null
        ? 'with std sigma·(C + g·√P) on the sum of clipped gradients.'
        : `with std sigma_grad·(C + g·√P) on the sum of clipped gradients, where sigma_grad = ${fmt(s.gradientSigma)} is raised ` +
          'from sigma so that the gradient and the clip-count releases together cost one Gaussian mechanism with multiplier sigma.'),
  );
  lines.push(
    `Clipping: ${s.clipping} L2, ` +
      (s.adaptive === null
        ? `C = ${fmt(s.startClipNorm)}.`
        : `adaptive (Andrew et al. 2021) from C = ${fmt(s.startClipNorm)}, target quantile ${fmt(s.adaptive.targetQuantile)}, ` +
          `count noise std ${fmt(s.adaptive.countNoiseStd)}.`),
  );
  const how = s.accountantDescription;
  lines.push(
    `Accounting: ${how}; ` +
      (poisson
        ? `${s.accountSteps} compositions of the Poisson-sampled Gaussian mechanism (Mironov, Talwar, Zhang 2019) with ` +
          'noise multiplier sigma.'
        : `${s.accountSteps} compositions (one per epoch) of the Gaussian mechanism with noise multiplier sigma/2 (sensitivity 2C).`),
  );
  if (user) {
    // user-level guarantee stated above
  } else if (s.maxExamplesPerUser === undefined) {
    lines.push(
      'No user-level guarantee: a user contributing several examples gets weaker protection (give maxExamplesPerUser ' +
        'for a user-level figure).',
    );
  } else {
    const k = s.maxExamplesPerUser;
    const userEps = userLevelEpsilon(s, k);
    lines.push(
      `User-level DP (at most ${k} examples per user, by group privacy): (epsilon = ${fmtEpsilon(userEps)}, delta = ${deltaText}).` +
        (userEps === Infinity ? ' The group-privacy conversion gives no finite bound here: lower maxExamplesPerUser or add noise.' : ''),
    );
  }
  if (s.boundary !== null) {
    lines.push(
      `Warning: the optimal RDP order (${s.boundary.order}) is the ${s.boundary.low ? 'smallest' : 'largest'} of the ` +
        'default list, so epsilon is a valid but possibly loose upper bound. To tighten it, train with ' +
        "accountant: 'pld', or recompute it with computeEpsilon and an `orders` list " +
        (s.boundary.low ? 'that starts closer to 1 (e.g. 1.01, 1.02, ...).' : 'that goes beyond 63 (e.g. 128, 256, 512, 1024).'),
    );
  }
  for (const w of s.warnings) lines.push(`Warning: ${w}`);
  return lines.join('\n');
}

/** User-level ε for at most k examples per user (Infinity when no finite bound follows). */
function userLevelEpsilon(s: StatementInput, k: number): number {
  const p = s.plan;
  const make = (): Accountant => createAccountant(s.accountant, { onWarning: () => {} });
  if (p.sampling === 'shuffle') {
    // k replaced examples move the batch sums by at most 2kC in L2 (all in one batch is the worst case): the
    // epoch is the Gaussian mechanism with multiplier σ/(2k), exactly.
    return make()
      .compose(gaussianEvent(s.accountSigma / k), s.accountSteps)
      .getEpsilon(s.delta);
  }
  const acc = make().compose(poissonSampledEvent(s.accountQ, gaussianEvent(s.accountSigma)), s.accountSteps);
  return groupPrivacyEpsilon((d) => acc.getEpsilon(d), s.delta, k);
}
