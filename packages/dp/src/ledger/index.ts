/**
 * Persistent privacy budgets: the caps and every spend in a real database, so a restart keeps the budget and
 * several processes cannot overspend it. SQLite (`node:sqlite`) is opened with `PrivacyBudget.open`; the
 * PostgreSQL ledger for replicated services is here. Database drivers are loaded on first use.
 * @module
 */
export { type PostgresBudgetOptions, type PostgresConnectionOptions, PostgresPrivacyBudget, openPostgresBudget } from './postgres.ts';
