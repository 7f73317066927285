/**
 * @ppml/dp: differential privacy for TypeScript.
 *
 * - `mechanisms/`: exact integer samplers and floating-point-safe Laplace, Gaussian, exponential and
 *   randomized-response mechanisms.
 * - `accountant/`: RDP, tight (PLD) and zCDP accounting, composition, noise calibration, privacy statements.
 * - `queries/`: clamped aggregate queries and a privacy budget that cannot be overspent.
 * - `special.ts`: erfc, log-erfc and the normal CDF to about 1e-15 relative, tails included.
 * - `sgd/`: DP-SGD with per-sample clipping and Poisson sampling, and built-in models.
 * - `ledger/`: persistent budgets (SQLite via `PrivacyBudget.open`, PostgreSQL for replicated services).
 * @module
 */
export * from './mechanisms/index.ts';
export * from './accountant/index.ts';
export * from './queries/index.ts';
export * from './sgd/index.ts';
export * from './ledger/index.ts';
export { erfc, logErfc, normalCdf, logNormalCdf, normalSf } from './special.ts';
