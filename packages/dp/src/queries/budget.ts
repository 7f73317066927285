/**
 * A privacy budget that cannot be overspent: a privacy filter with an odometer (Rogers, Roth, Ullman &
 * Vadhan, "Privacy Odometers and Filters", NeurIPS 2016). Every spend is checked against the caps and
 * recorded synchronously, in one step, before the caller computes or releases a noisy answer, so concurrent
 * async callers cannot interleave between the check and the record. A spend that would exceed a cap is
 * refused with {@link PrivacyBudgetExceededError} and recorded nowhere.
 *
 * Composition is chosen by `accountant` (the accountant registry, `accountant/registry.ts`):
 * - 'pld' (the default for a budget with an epsilon cap and a delta cap in (0, 1)) or 'rdp': each spend carries
 *   a privacy event (`DpEvent`: the mechanism's own, or the (epsilon, delta) pair of its cost) and is accepted
 *   when everything spent so far composed with it is (epsilon cap, delta cap)-DP under that accountant, or when
 *   the basic sums below still fit (both are valid bounds, the budget uses the better). The composed
 *   distribution is cached (see `PldAccountant`), so one spend costs one composition, not a rebuild. These
 *   accountants compose mechanisms whose privacy parameters are fixed before the interaction (which query is
 *   asked may depend on earlier answers: adaptive composition with fixed dominating pairs, Zhu, Dong, Wang
 *   2022, §2); when the parameters themselves are chosen from earlier answers, use 'basic'.
 * - 'basic' (the default for pure (delta = 0) and rho budgets, where additive composition is already exact):
 *   basic sequential composition over (epsilon, delta) (Dwork & Roth 2014, Thm. 3.16), which stays valid when
 *   each query's parameters are chosen adaptively (Rogers et al. 2016, the basic composition filter); and,
 *   optionally, zCDP over rho (Bun & Steinke 2016, composition of zCDP; with adaptively chosen parameters by the
 *   Rényi filter of Feldman & Zrnic 2021, since zCDP is RDP at every order). A pure epsilon-DP spend counts as
 *   rho = epsilon^2/2 (Bun & Steinke 2016, Prop. 1.4).
 *
 * Amounts are the decimals people write, added exactly: each number is read as the shortest decimal that
 * rounds to it (0.1 is one tenth; see `decimal.ts`) and summed as an exact rational (mathjs `Fraction`), so ten
 * spends of 0.1 fill a cap of 1 and rounding can never let through a spend that exceeds a cap. This never
 * under-charges: every mechanism and query of this package calibrates its noise from an epsilon (and delta) at
 * most that decimal ({@link decimalFloor}). A mechanism of your own should do the same before it spends.
 *
 * Persistence: `PrivacyBudget.open({ path, ... })` keeps the caps and every spend in a SQLite file (see
 * `ledger/sqlite.ts`); several processes may share it, each spend is checked and recorded in one exclusive
 * transaction. A PostgreSQL ledger for replicated services is in `ledger/postgres.ts`.
 * @module
 */
import { assertFunction, assertOptions, describeValue } from '@ppml/core';
import type { Fraction } from 'mathjs';
import { type DpEvent, epsilonDeltaEvent, pureEpsilonOf, validateEvent } from '../accountant/events.ts';
import { type Accountant, type AccountantKind, checkAccountantKind, createAccountant, accountantLabel } from '../accountant/registry.ts';
import { decimalOf, doubleAtLeast, doubleAtMost, fractionClass } from '../mechanisms/decimal.ts';

/**
 * The cost of one query. Give epsilon (and delta, default 0) and, for zCDP budgets, rho when known; give the
 * mechanism's privacy event when there is one (a Gaussian's `event`): 'pld' and 'rdp' budgets compose it
 * (without it they compose the (epsilon, delta) pair of the cost). A 'pld'/'rdp' budget accepts an event alone.
 * @example
 * ```ts
 * const cost: PrivacyCost = { epsilon: 0.5, delta: 1e-7, rho: 0.02 };
 * const gaussian: PrivacyCost = { epsilon: 0.1, delta: 1e-8, event: gaussianEvent(45.94) };
 * ```
 */
export interface PrivacyCost {
  readonly epsilon?: number;
  readonly delta?: number;
  readonly rho?: number;
  readonly event?: DpEvent;
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
  /**
   * How spends compose: 'pld' (default when epsilon is finite and delta in (0, 1), without rho), 'rdp', or
   * 'basic' (default otherwise: additive, exact decimals; the only choice for rho caps and pure budgets).
   */
  readonly accountant?: AccountantKind;
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
  /** The privacy event composed for this spend (the cost's own, or its (epsilon, delta) pair). */
  readonly event: DpEvent;
  /** When it was recorded (milliseconds since the Unix epoch). */
  readonly at: number;
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
const COST_KEYS = [...KEYS, 'event'] as const;
const OPTION_KEYS = [...KEYS, 'accountant'] as const;

function zero(): Fraction {
  return new (fractionClass())(0);
}

/**
 * Internal: the checked caps of a budget (Infinity where there is none) and its accountant.
 * @internal
 */
export interface BudgetCaps {
  readonly epsilon: number;
  readonly delta: number;
  readonly rho: number;
  readonly accountant: AccountantKind;
}

/**
 * Internal: checks the options of a budget (also used by the persistent ledgers).
 * @internal
 */
export function checkBudgetOptions(options: PrivacyBudgetOptions, keys: readonly string[] = OPTION_KEYS): BudgetCaps {
  const raw: unknown = options;
  assertOptions('options', raw, keys);
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
  if (options.accountant !== undefined) checkAccountantKind(options.accountant);
  const epsilon = options.epsilon ?? Number.POSITIVE_INFINITY;
  // No epsilon cap (or an infinite one, the odometer) means no delta cap either.
  const delta = !Number.isFinite(epsilon) ? Number.POSITIVE_INFINITY : (options.delta ?? 0);
  const rho = options.rho ?? Number.POSITIVE_INFINITY;
  const composable = Number.isFinite(epsilon) && delta > 0 && delta < 1 && !Number.isFinite(rho);
  const accountant = options.accountant ?? (composable ? 'pld' : 'basic');
  if (accountant !== 'basic' && !composable) {
    throw new RangeError(
      `accountant '${accountant}' needs a finite epsilon cap, a delta cap in (0, 1) and no rho cap ` +
        `(got epsilon=${epsilon}, delta=${delta}, rho=${rho}); use accountant 'basic' for pure or rho budgets`,
    );
  }
  return Object.freeze({ epsilon, delta, rho, accountant });
}

/**
 * Internal: one spend as the persistent ledgers store it.
 * @internal
 */
export interface StoredSpend {
  readonly label: string;
  readonly epsilon: number;
  readonly delta: number;
  readonly rho: number;
  readonly event: DpEvent;
  readonly at: number;
}

/** A checked spend, not yet recorded. */
interface Prepared {
  readonly label: string;
  readonly shown: BudgetAmounts;
  readonly exact: Exact;
  readonly event: DpEvent;
}

/**
 * Internal: the state of a budget (caps, exact basic sums, the composing accountant, the ledger), shared by the
 * in-memory budget and the persistent ledgers. Nothing here does I/O.
 * @internal
 */
export class BudgetCore {
  readonly caps: BudgetCaps;
  readonly #eps: Cap;
  readonly #del: Cap;
  readonly #rho: Cap;
  readonly #ledger: BudgetEntry[] = [];
  /** The composing accountant ('pld' or 'rdp' budgets) and ε of everything so far at the delta cap. */
  #acc: Accountant | undefined;
  #composedEpsilon = 0;

  constructor(caps: BudgetCaps) {
    this.caps = caps;
    const cap = (x: number): Cap => ({ limit: Number.isFinite(x) ? decimalOf(x) : null, spent: zero() });
    this.#eps = cap(caps.epsilon);
    this.#del = cap(caps.delta);
    this.#rho = cap(caps.rho);
    // A fixed PLD grid (dp_accounting's default 1e-4): the 'auto' grid follows the history's width, and every
    // change of grid would rebuild the cached composition from scratch.
    this.#acc =
      caps.accountant === 'basic'
        ? undefined
        : createAccountant(caps.accountant, { onWarning: () => {}, valueDiscretizationInterval: 1e-4 });
  }

  get length(): number {
    return this.#ledger.length;
  }

  get ledger(): readonly BudgetEntry[] {
    return this.#ledger.slice();
  }

  /** The basic sums, rounded up to doubles. */
  #basicSpent(): BudgetAmounts {
    return { epsilon: doubleAtLeast(this.#eps.spent), delta: doubleAtLeast(this.#del.spent), rho: doubleAtLeast(this.#rho.spent) };
  }

  get spent(): BudgetAmounts {
    const basic = this.#basicSpent();
    if (this.#acc === undefined || this.#ledger.length === 0) return basic;
    // Both bounds are valid for the whole sequence: report the better one, with the delta it holds at.
    if (basic.delta <= this.caps.delta && basic.epsilon <= this.#composedEpsilon) return basic;
    return { epsilon: this.#composedEpsilon, delta: this.caps.delta, rho: basic.rho };
  }

  get remaining(): BudgetAmounts {
    const left = (c: Cap): number => (c.limit === null ? Number.POSITIVE_INFINITY : doubleAtMost(c.limit.sub(c.spent)));
    if (this.#acc === undefined) return { epsilon: left(this.#eps), delta: left(this.#del), rho: left(this.#rho) };
    const s = this.spent;
    return {
      epsilon: Math.max(0, this.caps.epsilon - s.epsilon),
      delta: Math.max(0, this.caps.delta - s.delta),
      rho: Number.POSITIVE_INFINITY,
    };
  }

  /** The amounts a cost charges; throws TypeError/RangeError when it cannot be charged. */
  prepare(cost: PrivacyCost, label: unknown): Prepared {
    if (typeof label !== 'string') throw new TypeError(`label must be a string, got ${describeValue(label)}`);
    const raw: unknown = cost;
    assertOptions('cost', raw, COST_KEYS);
    if (cost.event !== undefined) validateEvent(cost.event, 'cost.event');
    let epsilon = cost.epsilon === undefined ? undefined : checkAmount('cost.epsilon', cost.epsilon, false);
    let delta = cost.delta === undefined ? 0 : checkAmount('cost.delta', cost.delta, false);
    if (!(delta < 1)) throw new RangeError(`cost.delta must be a number in [0, 1), got ${describeValue(delta)}`);
    const rho = cost.rho === undefined ? undefined : checkAmount('cost.rho', cost.rho, false);
    if (epsilon === undefined && cost.event !== undefined) {
      // An event alone: its own pure epsilon, or (composing budgets) its epsilon at the delta cap, rounded up.
      const pure = pureEpsilonOf(cost.event);
      if (pure !== undefined && Number.isFinite(pure)) epsilon = decimalCeilOf(pure);
      else if (this.#acc !== undefined) {
        const alone = createAccountant(this.caps.accountant, { onWarning: () => {} })
          .compose(cost.event)
          .getEpsilon(this.caps.delta);
        if (!Number.isFinite(alone))
          throw new RangeError(`cost.event alone is not (epsilon, ${this.caps.delta})-DP for any finite epsilon`);
        epsilon = decimalCeilOf(alone);
        if (cost.delta === undefined) delta = this.caps.delta;
      } else {
        throw new RangeError(`cost.epsilon (and delta) is required for a ${cost.event.kind} event on a 'basic' budget`);
      }
    }
    if (epsilon === undefined && rho === undefined) throw new RangeError('cost must give epsilon and/or rho, got neither');
    if (epsilon === undefined && this.#eps.limit !== null) {
      throw new RangeError('cost.epsilon is required by a budget with an epsilon cap, got only rho');
    }
    if (rho === undefined && delta > 0 && this.#rho.limit !== null) {
      throw new RangeError('cost.rho is required for an (epsilon, delta > 0) query against a rho cap');
    }
    const exactEps = epsilon === undefined ? zero() : decimalOf(epsilon);
    // A pure epsilon-DP spend is rho = epsilon^2/2 zCDP (Bun & Steinke 2016, Prop. 1.4), exactly in decimals.
    const exactRho = rho !== undefined ? decimalOf(rho) : delta === 0 ? exactEps.mul(exactEps).div(2) : zero();
    const exact: Exact = { epsilon: exactEps, delta: decimalOf(delta), rho: exactRho };
    const event = cost.event ?? epsilonDeltaEvent(epsilon ?? 0, delta);
    return { label, shown: { epsilon: epsilon ?? 0, delta, rho: rho ?? doubleAtLeast(exactRho) }, exact, event };
  }

  /** The capped quantities that the spend would take over their cap under basic composition. */
  #over(x: Exact): (typeof KEYS)[number][] {
    const caps = { epsilon: this.#eps, delta: this.#del, rho: this.#rho };
    return KEYS.filter((k) => {
      const c = caps[k];
      return c.limit !== null && c.spent.add(x[k]).compare(c.limit) > 0;
    });
  }

  /**
   * Checks a prepared spend; returns a function that records it, or the error that refuses it. Nothing is
   * recorded here.
   */
  evaluate(p: Prepared): { readonly commit: (at?: number) => BudgetEntry } | { readonly error: PrivacyBudgetExceededError } {
    const over = this.#over(p.exact);
    let trial: Accountant | undefined;
    let composed = 0;
    if (this.#acc !== undefined) {
      trial = this.#acc.clone().compose(p.event);
      composed = trial.getEpsilon(this.caps.delta);
      if (!(composed <= this.caps.epsilon) && over.length > 0) return { error: this.#refusal(p, over, composed) };
    } else if (over.length > 0) {
      return { error: this.#refusal(p, over, undefined) };
    }
    return { commit: (at = Date.now()) => this.#record(p, at, trial, composed) };
  }

  /** Records a spend read back from a persistent ledger (it was checked when it was first recorded). */
  replay(s: StoredSpend): BudgetEntry {
    const p = this.prepare({ epsilon: s.epsilon, delta: s.delta, rho: s.rho, event: s.event }, s.label);
    let trial: Accountant | undefined;
    let composed = 0;
    if (this.#acc !== undefined) {
      trial = this.#acc.clone().compose(p.event);
      composed = trial.getEpsilon(this.caps.delta);
    }
    return this.#record(p, s.at, trial, composed);
  }

  #record(p: Prepared, at: number, trial: Accountant | undefined, composed: number): BudgetEntry {
    this.#eps.spent = this.#eps.spent.add(p.exact.epsilon);
    this.#del.spent = this.#del.spent.add(p.exact.delta);
    this.#rho.spent = this.#rho.spent.add(p.exact.rho);
    if (trial !== undefined) {
      this.#acc = trial;
      this.#composedEpsilon = composed;
    }
    const entry: BudgetEntry = Object.freeze({ index: this.#ledger.length + 1, label: p.label, ...p.shown, event: p.event, at });
    this.#ledger.push(entry);
    return entry;
  }

  #refusal(p: Prepared, over: readonly (typeof KEYS)[number][], composed: number | undefined): PrivacyBudgetExceededError {
    const r = this.remaining;
    const caps = this.caps;
    // Name only the quantities this budget caps (a derived rho on an epsilon-only budget is noise to a reader).
    const keys = KEYS.filter((k) => Number.isFinite(caps[k]) || k === 'delta');
    const show = (o: Readonly<Record<(typeof keys)[number], number>>): string => keys.map((k) => `${k}=${o[k]}`).join(', ');
    const basic = this.#basicSpent();
    const why = over.map((k) => `${k}: spent ${basic[k]} + requested ${p.shown[k]} > cap ${caps[k]}`).join('; ');
    const how =
      composed === undefined
        ? `refused because it would exceed the cap (${why})`
        : `refused because composing it with the ${this.#ledger.length} earlier spend(s) gives epsilon = ${composed} ` +
          `at delta = ${caps.delta} under ${accountantLabel(caps.accountant)} accounting, above the cap ${caps.epsilon} ` +
          `(and basic composition would exceed the cap too: ${why})`;
    return new PrivacyBudgetExceededError(
      `privacy budget exceeded by "${p.label}": requested ${show(p.shown)}; remaining ${show(r)}; ${how}; nothing was recorded`,
      { requested: p.shown, remaining: r, label: p.label },
    );
  }
}

/** The smallest double at least x whose decimal reading is at least x (computed amounts are rounded up). */
function decimalCeilOf(x: number): number {
  return doubleAtLeast(decimalOf(x).add(decimalOf(Math.abs(x) * 2 ** -50)));
}

/**
 * Internal: the synchronous store behind a persistent budget (SQLite): an exclusive transaction that first
 * returns the spends other processes recorded since `after` spends.
 * @internal
 */
export interface SyncBudgetStore {
  /** Spends recorded after the first `after` ones (no lock). */
  read(after: number): StoredSpend[];
  /** Starts an exclusive transaction and returns the spends recorded after the first `after` ones. */
  begin(after: number): StoredSpend[];
  insert(spend: StoredSpend): void;
  commit(): void;
  rollback(): void;
  close(): void;
}

/**
 * Options of {@link PrivacyBudget.open}: the caps (as for the constructor), the SQLite file and the budget's
 * name in it.
 * @example
 * ```ts
 * const o: OpenBudgetOptions = { path: 'budget.db', name: 'census', epsilon: 3, delta: 1e-6 };
 * ```
 */
export interface OpenBudgetOptions extends PrivacyBudgetOptions {
  /** SQLite database file (created if missing); ':memory:' for a private in-memory database. */
  readonly path: string;
  /** Name of the budget in the file (default 'default'); one file can hold several budgets. */
  readonly name?: string;
  /** Milliseconds to wait for another process's transaction (default 10000). */
  readonly timeoutMs?: number;
}

/**
 * A privacy filter and odometer over (epsilon, delta) and/or zCDP rho, composing spends with an accountant.
 * @example
 * ```ts
 * const budget = new PrivacyBudget({ epsilon: 1, delta: 1e-6, accountant: 'basic' });
 * budget.spend({ epsilon: 0.5 }, 'count');
 * const mean = await budget.run({ epsilon: 0.25 }, 'mean', async () => computeNoisyMean());
 * budget.remaining; // { epsilon: 0.25, delta: 1e-6, rho: Infinity }
 *
 * const pld = new PrivacyBudget({ epsilon: 3, delta: 1e-6 }); // accountant 'pld'
 * const g = gaussianMechanism({ epsilon: 0.1, delta: 1e-8, sensitivity: 1 });
 * for (let i = 0; i < 100; i++) pld.spend({ epsilon: 0.1, delta: 1e-8, event: g.event }); // fits (basic: 30)
 * ```
 */
export class PrivacyBudget {
  /** Caps (Infinity where there is none). */
  readonly epsilon: number;
  readonly delta: number;
  readonly rho: number;
  /** How spends compose. */
  readonly accountant: AccountantKind;
  readonly #core: BudgetCore;
  #store: SyncBudgetStore | undefined;

  constructor(options: PrivacyBudgetOptions) {
    const caps = checkBudgetOptions(options);
    this.epsilon = caps.epsilon;
    this.delta = caps.delta;
    this.rho = caps.rho;
    this.accountant = caps.accountant;
    this.#core = new BudgetCore(caps);
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
   * Opens (or creates) a budget kept in a SQLite file (`node:sqlite`, loaded on first use): the caps and every
   * spend with its event, label and time. Reopening restores every spend; several processes may spend from the
   * same file, each spend checked and recorded in one exclusive transaction (`BEGIN IMMEDIATE`), so together
   * they never exceed the caps. Caps given for an existing budget must equal the stored ones. Call `close()`.
   * @example
   * ```ts
   * const budget = await PrivacyBudget.open({ path: 'budget.db', name: 'census', epsilon: 3, delta: 1e-6 });
   * budget.spend({ epsilon: 0.1, delta: 1e-8, event: gaussianEvent(45.94) }, 'sum');
   * budget.close();
   * ```
   */
  static async open(options: OpenBudgetOptions): Promise<PrivacyBudget> {
    const raw: unknown = options;
    assertOptions('options', raw, [...OPTION_KEYS, 'path', 'name', 'timeoutMs']);
    const caps = checkBudgetOptions({ epsilon: options.epsilon, delta: options.delta, rho: options.rho, accountant: options.accountant });
    const { openSqliteStore } = await import('../ledger/sqlite.ts');
    const store = await openSqliteStore({ path: options.path, name: options.name, timeoutMs: options.timeoutMs, caps });
    const budget = new PrivacyBudget({ epsilon: options.epsilon, delta: options.delta, rho: options.rho, accountant: caps.accountant });
    budget.#store = store;
    try {
      budget.#sync();
    } catch (err) {
      store.close();
      throw err;
    }
    return budget;
  }

  /** Reads spends other processes recorded (persistent budgets only). */
  #sync(): void {
    if (this.#store === undefined) return;
    for (const s of this.#store.read(this.#core.length)) this.#core.replay(s);
  }

  /**
   * Total recorded so far. Under 'basic': the exact decimal sums, each reported as the smallest double whose
   * decimal is at least the sum (so the report never under-states what was spent). Under 'pld'/'rdp': the
   * better of the composed epsilon at the delta cap and the basic sums, with the delta it holds at.
   */
  get spent(): BudgetAmounts {
    this.#sync();
    return this.#core.spent;
  }

  /**
   * What is left under each cap (Infinity where uncapped). Under 'basic': the largest double whose decimal is at
   * most the exact remainder, so that spending exactly this amount always fits. Under 'pld'/'rdp': the caps minus
   * {@link spent}; a further spend is checked by composition, so more may fit than this suggests (100 Gaussian
   * spends of (0.1, 1e-8) compose to less than 1 at delta 1e-6).
   */
  get remaining(): BudgetAmounts {
    this.#sync();
    return this.#core.remaining;
  }

  /** Every recorded spend, oldest first. */
  get ledger(): readonly BudgetEntry[] {
    this.#sync();
    return this.#core.ledger;
  }

  /**
   * Whether a spend would be accepted now (nothing is recorded).
   * @example
   * ```ts
   * if (budget.canSpend({ epsilon: 0.1 })) { ... }
   * ```
   */
  canSpend(cost: PrivacyCost): boolean {
    this.#sync();
    return 'commit' in this.#core.evaluate(this.#core.prepare(cost, 'query'));
  }

  /**
   * Checks and records a spend in one synchronous step; throws {@link PrivacyBudgetExceededError} (recording
   * nothing) when the caps would be exceeded. Call it before computing the noisy answer. Under 'basic', amounts
   * are added as the decimals they print as (ten spends of 0.1 fill a cap of 1 exactly); under 'pld'/'rdp' the
   * cost's event (or its (epsilon, delta) pair) is composed with everything spent so far. A persistent budget
   * checks and records in one exclusive transaction of its file.
   * @example
   * ```ts
   * budget.spend({ epsilon: 0.5, delta: 1e-7 }, 'gaussian sum');
   * ```
   */
  spend(cost: PrivacyCost, label = 'query'): BudgetEntry {
    const prepared = this.#core.prepare(cost, label);
    const store = this.#store;
    if (store === undefined) {
      const r = this.#core.evaluate(prepared);
      if ('error' in r) throw r.error;
      return r.commit();
    }
    const newer = store.begin(this.#core.length);
    let done = false;
    try {
      for (const s of newer) this.#core.replay(s);
      const r = this.#core.evaluate(prepared);
      if ('error' in r) throw r.error;
      const at = Date.now();
      store.insert({ label, ...prepared.shown, event: prepared.event, at });
      store.commit();
      done = true;
      return r.commit(at);
    } finally {
      if (!done) store.rollback();
    }
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

  /**
   * Closes the file of a persistent budget (idempotent; nothing to do for an in-memory one). Spending after
   * close throws.
   * @example
   * ```ts
   * budget.close();
   * ```
   */
  close(): void {
    const store = this.#store;
    if (store === undefined) return;
    store.close();
  }
}
