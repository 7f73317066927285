/**
 * A privacy budget that cannot be overspent: a privacy filter with an odometer (Rogers, Roth, Ullman &
 * Vadhan, "Privacy Odometers and Filters", NeurIPS 2016). Every spend is checked against the caps and
 * recorded synchronously, in one step, before the caller computes or releases a noisy answer, so concurrent
 * async callers cannot interleave between the check and the record. A spend that would exceed a cap is
 * refused with {@link PrivacyBudgetExceededError} and recorded nowhere.
 *
 * Composition: basic sequential composition over (epsilon, delta) (Dwork & Roth 2014, Thm. 3.16), which stays
 * valid when each query's parameters are chosen adaptively (Rogers et al. 2016, the basic composition
 * filter); and, optionally, zCDP over rho (Bun & Steinke 2016, composition of zCDP; with adaptively chosen
 * parameters by the Rényi filter of Feldman & Zrnic 2021, since zCDP is RDP at every order). A pure epsilon-DP spend counts as rho = epsilon^2/2
 * (Bun & Steinke 2016, Prop. 1.4). Tighter accounting of many mechanisms lives in the accountants.
 *
 * Sums are exact: every double is an exact dyadic rational and the odometer adds them in BigInt, so rounding
 * can never let a spend through that exceeds a cap. Note that decimal literals are not exact: ten spends of
 * 0.1 add up to 1.0000000000000000555 and exceed a cap of 1; use dyadic fractions (0.125) or `remaining`.
 * @module
 */
import { describeValue } from '@ppml/core';

/**
 * The cost of one query. Give epsilon (and delta, default 0) and, for zCDP budgets, rho when known.
 * @example
 * ```ts
 * const cost: PrivacyCost = { epsilon: 0.5, delta: 1e-7, rho: 0.02 };
 * ```
 */
export interface PrivacyCost {
  readonly epsilon?: number;
  readonly delta?: number;
  readonly rho?: number;
}

/**
 * Caps of a {@link PrivacyBudget}; at least one of epsilon or rho. Infinity means "no cap" (odometer only).
 * @example
 * ```ts
 * const caps: PrivacyBudgetOptions = { epsilon: 1, delta: 1e-6 };
 * ```
 */
export interface PrivacyBudgetOptions {
  readonly epsilon?: number;
  /** Default 0 (pure DP) when a finite epsilon is given; no cap when epsilon is absent or infinite. */
  readonly delta?: number;
  readonly rho?: number;
}

/**
 * One recorded spend.
 * @example
 * ```ts
 * const last: BudgetEntry | undefined = budget.ledger.at(-1);
 * ```
 */
export interface BudgetEntry {
  /** 1-based position in the ledger. */
  readonly index: number;
  readonly label: string;
  readonly epsilon: number;
  readonly delta: number;
  readonly rho: number;
}

/**
 * Spent or remaining amounts.
 * @example
 * ```ts
 * const left: BudgetAmounts = budget.remaining;
 * ```
 */
export interface BudgetAmounts {
  readonly epsilon: number;
  readonly delta: number;
  readonly rho: number;
}

/**
 * Thrown when a spend would exceed a {@link PrivacyBudget}'s cap. Nothing was recorded and no answer computed.
 * @example
 * ```ts
 * try { budget.spend({ epsilon: 2 }); } catch (e) { if (e instanceof PrivacyBudgetExceededError) console.log(e.requested); }
 * ```
 */
export class PrivacyBudgetExceededError extends Error {
  /** The refused cost. */
  readonly requested: BudgetAmounts;
  /** What was left when it was refused. */
  readonly remaining: BudgetAmounts;
  /** The label of the refused query. */
  readonly label: string;

  constructor(message: string, options: { requested: BudgetAmounts; remaining: BudgetAmounts; label: string; cause?: unknown }) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'PrivacyBudgetExceededError';
    this.requested = options.requested;
    this.remaining = options.remaining;
    this.label = options.label;
  }
}

/** 2^1074: every finite double times this is an integer. */
const SHIFT = 1074n;

function toFixed(x: number): bigint {
  if (x === 0) return 0n;
  if (x === Number.POSITIVE_INFINITY) throw new RangeError('internal: infinite amount');
  // x = m * 2^e exactly; scale by 2^1074
  let e = 0;
  let m = x;
  while (!Number.isInteger(m)) {
    m *= 2;
    e--;
  }
  while (m > Number.MAX_SAFE_INTEGER) {
    m /= 2;
    e++;
  }
  return BigInt(m) << (SHIFT + BigInt(e));
}

function fromFixed(v: bigint): number {
  if (v === 0n) return 0;
  const bits = v.toString(2).length;
  const s = bits > 1000 ? bits - 1000 : 0;
  return Number(v >> BigInt(s)) * 2 ** (s - 1074);
}

function checkAmount(name: string, x: unknown, allowInfinity: boolean): number {
  if (typeof x !== 'number') throw new TypeError(`${name} must be a number >= 0, got ${describeValue(x)}`);
  if (Number.isNaN(x) || x < 0 || (!allowInfinity && !Number.isFinite(x))) {
    throw new RangeError(`${name} must be a ${allowInfinity ? '' : 'finite '}number >= 0, got ${describeValue(x)}`);
  }
  return x;
}

interface Cap {
  readonly limit: bigint | null; // null: no cap
  spent: bigint;
}

/**
 * A privacy filter and odometer over (epsilon, delta) and/or zCDP rho.
 * @example
 * ```ts
 * const budget = new PrivacyBudget({ epsilon: 1, delta: 1e-6 });
 * budget.spend({ epsilon: 0.5 }, 'count');
 * const mean = await budget.run({ epsilon: 0.25 }, 'mean', async () => computeNoisyMean());
 * budget.remaining; // { epsilon: 0.25, delta: 1e-6, rho: Infinity }
 * ```
 */
export class PrivacyBudget {
  /** Caps (Infinity where there is none). */
  readonly epsilon: number;
  readonly delta: number;
  readonly rho: number;
  readonly #eps: Cap;
  readonly #del: Cap;
  readonly #rho: Cap;
  readonly #ledger: BudgetEntry[] = [];

  constructor(options: PrivacyBudgetOptions) {
    if (options === null || typeof options !== 'object') {
      throw new TypeError(`options must be an object with epsilon and/or rho, got ${describeValue(options)}`);
    }
    if (options.epsilon === undefined && options.rho === undefined) {
      throw new RangeError('options must give epsilon (with optional delta) and/or rho, got neither');
    }
    if (options.epsilon !== undefined) {
      const e = checkAmount('epsilon', options.epsilon, true);
      if (e === 0) throw new RangeError('epsilon must be a number > 0, got 0');
    }
    if (options.delta !== undefined) {
      const d = checkAmount('delta', options.delta, false);
      if (!(d < 1)) throw new RangeError(`delta must be a number in [0, 1), got ${describeValue(d)}`);
      if (options.epsilon === undefined) throw new RangeError('delta needs an epsilon cap, got delta without epsilon');
    }
    if (options.rho !== undefined) {
      const r = checkAmount('rho', options.rho, true);
      if (r === 0) throw new RangeError('rho must be a number > 0, got 0');
    }
    this.epsilon = options.epsilon ?? Number.POSITIVE_INFINITY;
    // No epsilon cap (or an infinite one, the odometer) means no delta cap either.
    this.delta = !Number.isFinite(this.epsilon) ? Number.POSITIVE_INFINITY : (options.delta ?? 0);
    this.rho = options.rho ?? Number.POSITIVE_INFINITY;
    const cap = (x: number): Cap => ({ limit: Number.isFinite(x) ? toFixed(x) : null, spent: 0n });
    this.#eps = cap(this.epsilon);
    this.#del = cap(this.delta);
    this.#rho = cap(this.rho);
  }

  /**
   * An odometer without caps: records every spend, refuses nothing.
   * @example
   * ```ts
   * const meter = PrivacyBudget.odometer();
   * meter.spend({ epsilon: 0.1 });
   * ```
   */
  static odometer(): PrivacyBudget {
    return new PrivacyBudget({ epsilon: Number.POSITIVE_INFINITY, rho: Number.POSITIVE_INFINITY });
  }

  /** Total recorded so far. */
  get spent(): BudgetAmounts {
    return { epsilon: fromFixed(this.#eps.spent), delta: fromFixed(this.#del.spent), rho: fromFixed(this.#rho.spent) };
  }

  /** What is left under each cap (rounded to the nearest double; Infinity where uncapped). */
  get remaining(): BudgetAmounts {
    const left = (c: Cap): number => (c.limit === null ? Number.POSITIVE_INFINITY : fromFixed(c.limit - c.spent));
    return { epsilon: left(this.#eps), delta: left(this.#del), rho: left(this.#rho) };
  }

  /** Every recorded spend, oldest first. */
  get ledger(): readonly BudgetEntry[] {
    return this.#ledger.slice();
  }

  /** The amounts a cost charges against this budget; throws RangeError when it cannot be charged. */
  #amounts(cost: PrivacyCost): BudgetAmounts {
    if (cost === null || typeof cost !== 'object') throw new TypeError(`cost must be an object, got ${describeValue(cost)}`);
    const epsilon = cost.epsilon === undefined ? undefined : checkAmount('cost.epsilon', cost.epsilon, false);
    const delta = cost.delta === undefined ? 0 : checkAmount('cost.delta', cost.delta, false);
    if (!(delta < 1)) throw new RangeError(`cost.delta must be a number in [0, 1), got ${describeValue(delta)}`);
    let rho = cost.rho === undefined ? undefined : checkAmount('cost.rho', cost.rho, false);
    if (epsilon === undefined && rho === undefined) throw new RangeError('cost must give epsilon and/or rho, got neither');
    if (epsilon === undefined && this.#eps.limit !== null) {
      throw new RangeError('cost.epsilon is required by a budget with an epsilon cap, got only rho');
    }
    if (rho === undefined) {
      if (delta > 0 && this.#rho.limit !== null) {
        throw new RangeError('cost.rho is required for an (epsilon, delta > 0) query against a rho cap');
      }
      rho = delta === 0 && epsilon !== undefined ? (epsilon * epsilon) / 2 : 0;
      if (rho > 0) rho = nextUp(rho); // epsilon^2/2 rounded up
    }
    return { epsilon: epsilon ?? 0, delta, rho };
  }

  /**
   * Whether a spend would be accepted now (nothing is recorded).
   * @example
   * ```ts
   * if (budget.canSpend({ epsilon: 0.1 })) { ... }
   * ```
   */
  canSpend(cost: PrivacyCost): boolean {
    const a = this.#amounts(cost);
    return this.#fits(a);
  }

  #fits(a: BudgetAmounts): boolean {
    const ok = (c: Cap, x: number): boolean => c.limit === null || c.spent + toFixed(x) <= c.limit;
    return ok(this.#eps, a.epsilon) && ok(this.#del, a.delta) && ok(this.#rho, a.rho);
  }

  /**
   * Checks and records a spend in one synchronous step; throws {@link PrivacyBudgetExceededError} (recording
   * nothing) when any cap would be exceeded. Call it before computing the noisy answer.
   * @example
   * ```ts
   * budget.spend({ epsilon: 0.5, delta: 1e-7 }, 'gaussian sum');
   * ```
   */
  spend(cost: PrivacyCost, label = 'query'): BudgetEntry {
    if (typeof label !== 'string') throw new TypeError(`label must be a string, got ${describeValue(label)}`);
    const a = this.#amounts(cost);
    if (!this.#fits(a)) {
      const r = this.remaining;
      // Name only the quantities this budget caps (a derived rho on an epsilon-only budget is noise to a reader).
      const keys = (['epsilon', 'delta', 'rho'] as const).filter((k) => Number.isFinite(this[k]) || k === 'delta');
      const show = (o: Readonly<Record<(typeof keys)[number], number>>): string => keys.map((k) => `${k}=${o[k]}`).join(', ');
      throw new PrivacyBudgetExceededError(
        `privacy budget exceeded by "${label}": requested ${show(a)}; remaining ${show(r)}`,
        { requested: a, remaining: r, label },
      );
    }
    this.#eps.spent += toFixed(a.epsilon);
    this.#del.spent += toFixed(a.delta);
    this.#rho.spent += toFixed(a.rho);
    const entry: BudgetEntry = Object.freeze({ index: this.#ledger.length + 1, label, ...a });
    this.#ledger.push(entry);
    return entry;
  }

  /**
   * Spends `cost` first (synchronously, so concurrent callers cannot overspend), then runs `compute` and
   * returns its result. The spend stays recorded even if `compute` fails, since it may already have touched
   * the data.
   * @example
   * ```ts
   * const noisy = await budget.run({ epsilon: 0.1 }, 'sum', async () => lap.addNoise(await loadSum()));
   * ```
   */
  async run<T>(cost: PrivacyCost, label: string, compute: () => T | Promise<T>): Promise<T> {
    if (typeof compute !== 'function') throw new TypeError(`compute must be a function, got ${describeValue(compute)}`);
    this.spend(cost, label);
    return await compute();
  }
}

const F = new Float64Array(1);
const B = new BigUint64Array(F.buffer);
/** The next double above a finite x >= 0. */
function nextUp(x: number): number {
  if (x === 0) return Number.MIN_VALUE;
  F[0] = x;
  B[0] += 1n;
  return F[0];
}
