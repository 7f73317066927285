/**
 * Lists of Rényi orders. The ε an RDP accountant reports depends on the orders it tries, so the lists are
 * explicit, frozen and testable. The default is Opacus's `RDPAccountant.DEFAULT_ALPHAS` (also used by the Opacus
 * FAQ and the TensorFlow tutorials); the lists of Google's `dp_accounting` and of TF Privacy's deprecated
 * `compute_dp_sgd_privacy` are provided to reproduce their published numbers.
 * @module
 */

function range(from: number, toExclusive: number): number[] {
  const out: number[] = [];
  for (let i = from; i < toExclusive; i++) out.push(i);
  return out;
}

function tenths(): number[] {
  const out: number[] = [];
  for (let x = 1; x < 100; x++) out.push(1 + x / 10);
  return out;
}

/**
 * Opacus's default orders: 1 + x/10 for x = 1..99 (1.1 to 10.9), then the integers 12 to 63; 151 orders.
 * @example
 * ```ts
 * DEFAULT_RDP_ORDERS.length; // 151
 * DEFAULT_RDP_ORDERS[0]; // 1.1
 * ```
 */
export const DEFAULT_RDP_ORDERS: readonly number[] = Object.freeze([...tenths(), ...range(12, 64)]);

/**
 * `dp_accounting`'s `DEFAULT_RDP_ORDERS`: 1 + x/10 for x = 1..99, then 11..63, then 128, 256, 512, 1024 (156
 * orders). TF Privacy's `compute_dp_sgd_privacy_statement` uses it through `dp_accounting.rdp.RdpAccountant()`.
 * @example
 * ```ts
 * DP_ACCOUNTING_RDP_ORDERS.length; // 156
 * ```
 */
export const DP_ACCOUNTING_RDP_ORDERS: readonly number[] = Object.freeze([...tenths(), ...range(11, 64), 128, 256, 512, 1024]);

/**
 * The orders of TF Privacy's deprecated `compute_dp_sgd_privacy` and `compute_noise_from_budget`: 1.25 to 4.5,
 * then 5..63, then 128, 256, 512 (72 orders).
 * @example
 * ```ts
 * TF_PRIVACY_RDP_ORDERS.length; // 72
 * ```
 */
export const TF_PRIVACY_RDP_ORDERS: readonly number[] = Object.freeze([
  1.25,
  1.5,
  1.75,
  2,
  2.25,
  2.5,
  3,
  3.5,
  4,
  4.5,
  ...range(5, 64),
  128,
  256,
  512,
]);
