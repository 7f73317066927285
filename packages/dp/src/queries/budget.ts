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
 * Amounts are the decimals people write, added exactly: each number is read as the shortest decimal that
 * rounds to it (0.1 is one tenth; see `decimal.ts`) and summed as an exact rational (mathjs `Fraction`), so ten
 * spends of 0.1 fill a cap of 1 and rounding can never let through a spend that exceeds a cap. This never
 * under-charges: every mechanism and query of this package calibrates its noise from an epsilon (and delta) at
 * most that decimal ({@link decimalFloor}). A mechanism of your own should do the same before it spends.
 * @module
 */
import { assertFunction, assertOptions, describeValue } from '@ppml/core';
import type { Fraction } from 'mathjs';
import { decimalOf, doubleAtLeast, doubleAtMost, fractionClass } from '../mechanisms/decimal.ts';

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
    if (typeof message !== 'string') throw new TypeError(`message must be a string, got ${describeValue(message)}`);
    const raw: unknown = options;
    assertOptions('options', raw, ['requested', 'remaining', 'label', 'cause']);
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'PrivacyBudgetExceededError';
    this.requested = options.requested;
    this.remaining = options.remaining;
    this.label = options.label;
  }
}

function checkAmount(name: string, x: unknown, allowInfinity: boolean): number {
  if (typeof x !== 'number') throw new TypeError(`${name} must be a number >= 0, got ${describeValue(x)}`);
  if (Number.isNaN(x) || x < 0 || (!allowInfinity && !Number.isFinite(x))) {
    throw new RangeError(`${name} must be a ${allowInfinity ? '' : 'finite '}number >= 0, got ${describeValue(x)}`);
  }
  return x;
}

interface Cap {
  readonly limit: Fraction | null; // null: no cap
  spent: Fraction;
}

/** The exact decimal amounts of one spend. */
interface Exact {
  readonly epsilon: Fraction;
  readonly delta: Fraction;
  readonly rho: Fraction;
}

const KEYS = ['epsilon', 'delta', 'rho'] as const;

function zero(): Fraction {
  return new (fractionClass())(0);
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
    const raw: unknown = options;
    assertOptions('options', raw, KEYS);
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
    const cap = (x: number): Cap => ({ limit: Number.isFinite(x) ? decimalOf(x) : null, spent: zero() });
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

  /**
   * Total recorded so far: the exact decimal sums, each reported as the smallest double whose decimal is at
   * least the sum (so the report never under-states what was spent).
   */
  get spent(): BudgetAmounts {
    return { epsilon: doubleAtLeast(this.#eps.spent), delta: doubleAtLeast(this.#del.spent), rho: doubleAtLeast(this.#rho.spent) };
  }

  /**
   * What is left under each cap (Infinity where uncapped): the largest double whose decimal is at most the exact
   * remainder, so that spending exactly this amount always fits.
   */
  get remaining(): BudgetAmounts {
    const left = (c: Cap): number => (c.limit === null ? Number.POSITIVE_INFINITY : doubleAtMost(c.limit.sub(c.spent)));
    return { epsilon: left(this.#eps), delta: left(this.#del), rho: left(this.#rho) };
  }

  /** Every recorded spend, oldest first. */
  get ledger(): readonly BudgetEntry[] {
    return this.#ledger.slice();
  }

  /** The amounts a cost charges against this budget; throws TypeError/RangeError when it cannot be charged. */
  #amounts(cost: PrivacyCost): { readonly shown: BudgetAmounts; readonly exact: Exact } {
    const raw: unknown = cost;
    assertOptions('cost', raw, KEYS);
    const epsilon = cost.epsilon === undefined ? undefined : checkAmount('cost.epsilon', cost.epsilon, false);
    const delta = cost.delta === undefined ? 0 : checkAmount('cost.delta', cost.delta, false);
    if (!(delta < 1)) throw new RangeError(`cost.delta must be a number in [0, 1), got ${describeValue(delta)}`);
    const rho = cost.rho === undefined ? undefined : checkAmount('cost.rho', cost.rho, false);
    if (epsilon === undefined && rho === undefined) throw new RangeError('cost must give epsilon and/or rho, got neither');
    if (epsilon === undefined && this.#eps.limit !== null) {
      throw new RangeError('cost.epsilon is required by a budget with an epsilon cap, got only rho');
    }
    if (rho === undefined && delta > 0 && this.#rho.limit !== null) {
      throw new RangeError('cost.rho is required for an (epsilon, delta > 0) query against a rho cap');
    }
    const exactEps = epsilon === undefined ? zero() : decimalOf(epsilon);
    // A pure epsilon-DP spend is rho = epsilon^2/2 zCDP (Bun & Steinke 2016, Prop. 1.4), exactly in decimals.
    const exactRho =
      rho !== undefined ? decimalOf(rho) : delta === 0 ? exactEps.mul(exactEps).div(2) : zero();
    const exact: Exact = { epsilon: exactEps, delta: decimalOf(delta), rho: exactRho };
    return { shown: { epsilon: epsilon ?? 0, delta, rho: rho ?? doubleAtLeast(exactRho) }, exact };
  }

  /**
   * Whether a spend would be accepted now (nothing is recorded).
   * @example
   * ```ts
   * if (budget.canSpend({ epsilon: 0.1 })) { ... }
   * ```
   */
  canSpend(cost: PrivacyCost): boolean {
    return this.#over(this.#amounts(cost).exact).length === 0;
  }

  /** The capped quantities that the spend would take over their cap. */
  #over(x: Exact): (typeof KEYS)[number][] {
    const caps = { epsilon: this.#eps, delta: this.#del, rho: this.#rho };
    return KEYS.filter((k) => {
      const c = caps[k];
      return c.limit !== null && c.spent.add(x[k]).compare(c.limit) > 0;
    });
  }

  /**
   * Checks and records a spend in one synchronous step; throws {@link PrivacyBudgetExceededError} (recording
   * nothing) when any cap would be exceeded. Call it before computing the noisy answer. Amounts are added as
   * the decimals they print as (ten spends of 0.1 fill a cap of 1 exactly).
   * @example
   * ```ts
   * budget.spend({ epsilon: 0.5, delta: 1e-7 }, 'gaussian sum');
   * ```
   */
  spend(cost: PrivacyCost, label = 'query'): BudgetEntry {
    if (typeof label !== 'string') throw new TypeError(`label must be a string, got ${describeValue(label)}`);
    const { shown, exact } = this.#amounts(cost);
    const over = this.#over(exact);
    if (over.length > 0) {
      const r = this.remaining;
      const spent = this.spent;
      // Name only the quantities this budget caps (a derived rho on an epsilon-only budget is noise to a reader).
      const keys = KEYS.filter((k) => Number.isFinite(this[k]) || k === 'delta');
      const show = (o: Readonly<Record<(typeof keys)[number], number>>): string => keys.map((k) => `${k}=${o[k]}`).join(', ');
      const why = over
        .map((k) => `${k}: spent ${spent[k]} + requested ${shown[k]} > cap ${this[k]}`)
        .join('; ');
      throw new PrivacyBudgetExceededError(
        `privacy budget exceeded by "${label}": requested ${show(shown)}; remaining ${show(r)}; ` +
          `refused because it would exceed the cap (${why}); nothing was recorded`,
        { requested: shown, remaining: r, label },
      );
    }
    this.#eps.spent = this.#eps.spent.add(exact.epsilon);
    this.#del.spent = this.#del.spent.add(exact.delta);
    this.#rho.spent = this.#rho.spent.add(exact.rho);
    const entry: BudgetEntry = Object.freeze({ index: this.#ledger.length + 1, label, ...shown });
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
    assertFunction('compute', compute);
    this.spend(cost, label);
    return await compute();
  }
}
