/**
 * Internal: what the SQLite and PostgreSQL ledgers share: the budget-name rule, the check that the caps a
 * caller opens a budget with equal the stored ones, and the reading of stored spends and events.
 * @module
 */
import { describeValue } from '@ppml/core';
import { type DpEvent, validateEvent } from '../accountant/events.ts';
import type { BudgetCaps, StoredSpend } from '../queries/budget.ts';

/** Version of the tables' layout, stored with each budget. */
export const SCHEMA_VERSION = 1;

/** A budget name: 1 to 200 characters. */
export function checkBudgetName(name: unknown): asserts name is string {
  if (typeof name !== 'string') throw new TypeError(`name must be a string, got ${describeValue(name)}`);
  if (name.length === 0 || name.length > 200) throw new RangeError(`name must have 1 to 200 characters, got ${name.length}`);
}

/** Why stored caps differ from the requested ones, or undefined when they are equal. */
export function capsMismatch(
  caps: BudgetCaps,
  row: { epsilon: string; delta: string; rho: string; accountant: string },
): string | undefined {
  const stored = { epsilon: Number(row.epsilon), delta: Number(row.delta), rho: Number(row.rho), accountant: row.accountant };
  const same =
    stored.epsilon === caps.epsilon && stored.delta === caps.delta && stored.rho === caps.rho && stored.accountant === caps.accountant;
  if (same) return undefined;
  return (
    `was created with epsilon=${stored.epsilon}, delta=${stored.delta}, rho=${stored.rho}, accountant '${stored.accountant}', ` +
    `not epsilon=${caps.epsilon}, delta=${caps.delta}, rho=${caps.rho}, accountant '${caps.accountant}': caps cannot change`
  );
}

/** A stored event, checked (a corrupted row is a RangeError naming the problem, never a silent wrong charge). */
export function parseEvent(json: string): DpEvent {
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch (err) {
    throw new RangeError(`a stored privacy event is not valid JSON: ${describeValue(json)}`, { cause: err });
  }
  validateEvent(value, 'stored event');
  return value;
}

/** A row of `ppml_spends` as either driver returns it (`at` is a BIGINT string from PostgreSQL). */
export interface SpendRow {
  readonly label: string;
  readonly epsilon: number;
  readonly delta: number;
  readonly rho: number;
  readonly event: string;
  readonly at: number | string;
}

/** A stored spend read back from its row, its event checked by {@link parseEvent}. */
export function toStoredSpend(row: SpendRow): StoredSpend {
  return { label: row.label, epsilon: row.epsilon, delta: row.delta, rho: row.rho, event: parseEvent(row.event), at: Number(row.at) };
}
