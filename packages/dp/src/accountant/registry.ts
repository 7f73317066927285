/**
 * The one place that maps an accountant's name to an accountant object, as Opacus's `IAccountant` and its
 * registry (`opacus/accountants/__init__.py`, `create_accountant`). Calibration, privacy statements, the
 * DP-SGD trainer and the privacy budget all create their accountants here, so adding an accountant is one file
 * (a class implementing {@link Accountant}) plus one line in `REGISTRY`.
 * @module
 */
import { assertOptions, describeValue } from '@ppml/core';
import { BasicAccountant } from './basic-accountant.ts';
import type { DpEvent } from './events.ts';
import { PldAccountant } from './pld-accountant.ts';
import type { NeighboringRelation, PrivacyAccountant } from './rdp-accountant.ts';
import { RdpAccountant } from './rdp-accountant.ts';
import type { RdpConversion, RdpOrders } from './rdp.ts';

/**
 * What an accountant class implements to be registered: composition of {@link DpEvent}s, ε(δ) and δ(ε), a
 * cheap independent copy (to try a composition before committing to it) and a sentence saying how it computes
 * ε. `kind` is its registry name.
 * @example
 * ```ts
 * class MyAccountant implements RegisteredAccountant { readonly kind = 'mine'; ... }
 * ```
 */
export interface RegisteredAccountant extends PrivacyAccountant {
  /** The registry name of this accountant. */
  readonly kind: string;
  /** An independent accountant with the same options and history. */
  clone(): RegisteredAccountant;
  /** How ε is computed (for privacy statements). */
  describe(): string;
}

/**
 * An accountant made by {@link createAccountant}.
 * @example
 * ```ts
 * const acc: Accountant = createAccountant('pld');
 * acc.compose(gaussianEvent(5), 100);
 * acc.getEpsilon(1e-6);
 * ```
 */
export interface Accountant extends RegisteredAccountant {
  readonly kind: AccountantKind;
  clone(): Accountant;
}

/**
 * Options understood by {@link createAccountant}; each accountant reads the ones that apply to it and ignores
 * the others (so one options object can be passed whatever the kind).
 * @example
 * ```ts
 * const o: AccountantOptions = { orders: DP_ACCOUNTING_RDP_ORDERS, conversion: 'balle2020' };
 * ```
 */
export interface AccountantOptions {
  /** RDP orders ('rdp'; also the fallback of 'pld'). Default {@link DEFAULT_RDP_ORDERS}. */
  orders?: RdpOrders;
  /** RDP to (ε, δ) conversion ('rdp'). Default 'balle2020'. */
  conversion?: RdpConversion;
  /** Default 'add-or-remove-one'. */
  neighboringRelation?: NeighboringRelation;
  /** PLD grid step ('pld'). Default 'auto'. */
  valueDiscretizationInterval?: number | 'auto';
  /** Where PLD fallback warnings go ('pld'). */
  onWarning?: (message: string) => void;
}

interface RegistryEntry {
  /** Short name for statements ('RDP', 'PLD', ...). */
  readonly label: string;
  readonly create: (options: AccountantOptions) => RegisteredAccountant;
}

/** The registry: one line per accountant (and its name in `AccountantKind`). */
const REGISTRY: Readonly<Record<AccountantKind, RegistryEntry>> = {
  pld: {
    label: 'PLD',
    create: (o) =>
      new PldAccountant({
        valueDiscretizationInterval: o.valueDiscretizationInterval,
        neighboringRelation: o.neighboringRelation,
        orders: o.orders,
        onWarning: o.onWarning,
      }),
  },
  rdp: {
    label: 'RDP',
    create: (o) => new RdpAccountant({ orders: o.orders, conversion: o.conversion, neighboringRelation: o.neighboringRelation }),
  },
  basic: { label: 'basic composition', create: (o) => new BasicAccountant({ neighboringRelation: o.neighboringRelation }) },
};

/**
 * Which accountant computes ε: 'pld' (privacy loss distributions, tight), 'rdp' (Rényi DP) or 'basic'
 * (basic composition of (ε, δ) pairs).
 * @example
 * ```ts
 * const kind: AccountantKind = 'pld';
 * ```
 */
export type AccountantKind = 'pld' | 'rdp' | 'basic';

/**
 * The registered accountant names, in the registry's order.
 * @example
 * ```ts
 * ACCOUNTANT_KINDS; // ['pld', 'rdp', 'basic']
 * ```
 */
export const ACCOUNTANT_KINDS: readonly AccountantKind[] = Object.freeze(Object.keys(REGISTRY) as AccountantKind[]);

const OPTION_KEYS = ['orders', 'conversion', 'neighboringRelation', 'valueDiscretizationInterval', 'onWarning'] as const;

/**
 * Whether `x` names a registered accountant.
 * @example
 * ```ts
 * isAccountantKind('rdp'); // true
 * ```
 */
export function isAccountantKind(x: unknown): x is AccountantKind {
  return typeof x === 'string' && Object.hasOwn(REGISTRY, x);
}

/**
 * Throws a RangeError unless `x` names a registered accountant.
 * @example
 * ```ts
 * checkAccountantKind(options.accountant);
 * ```
 */
export function checkAccountantKind(x: unknown, name = 'accountant'): asserts x is AccountantKind {
  if (!isAccountantKind(x)) {
    throw new RangeError(`${name} must be one of ${ACCOUNTANT_KINDS.map((k) => `'${k}'`).join(', ')}, got ${describeValue(x)}`);
  }
}

/**
 * A new, empty accountant of the given kind.
 * @example
 * ```ts
 * const acc = createAccountant('rdp', { orders: DP_ACCOUNTING_RDP_ORDERS });
 * acc.compose(poissonSampledEvent(0.01, gaussianEvent(1.1)), 1000).getEpsilon(1e-5);
 * ```
 */
export function createAccountant(kind: AccountantKind, options: AccountantOptions = {}): Accountant {
  checkAccountantKind(kind);
  assertOptions('options', options, OPTION_KEYS);
  // Each class's `kind` is its key in REGISTRY, so the cast only narrows `kind` from string to its literal.
  return REGISTRY[kind].create(options) as Accountant;
}

/**
 * The short name of an accountant for statements ('PLD', 'RDP', 'basic composition').
 * @example
 * ```ts
 * accountantLabel('pld'); // 'PLD'
 * ```
 */
export function accountantLabel(kind: AccountantKind): string {
  checkAccountantKind(kind);
  return REGISTRY[kind].label;
}

/**
 * Options of {@link eventEpsilon}: the accountant, δ and the accountant's own options.
 * @example
 * ```ts
 * const o: EventEpsilonOptions = { accountant: 'pld', delta: 1e-6 };
 * ```
 */
export interface EventEpsilonOptions extends AccountantOptions {
  accountant: AccountantKind;
  delta: number;
  /** Times the event is composed (default 1). */
  count?: number;
}

/**
 * ε at δ of `count` compositions of one event under the chosen accountant.
 * @example
 * ```ts
 * eventEpsilon(gaussianEvent(5), { accountant: 'pld', delta: 1e-6, count: 100 }); // about 0.97
 * ```
 */
export function eventEpsilon(event: DpEvent, options: EventEpsilonOptions): number {
  assertOptions('options', options, [...OPTION_KEYS, 'accountant', 'delta', 'count']);
  const { accountant, delta, count = 1, ...rest } = options;
  return createAccountant(accountant, rest).compose(event, count).getEpsilon(delta);
}
