/**
 * Internal log-space functions shared by the accountants (not part of the public API): stable ln(e^a + e^b),
 * ln(e^a - e^b), ln(1 - e^x) and ln(e^x - 1), and a compensated (Neumaier) sum for signed series.
 * @module
 */

/** ln(e^a + e^b) without overflow. */
export function logAdd(a: number, b: number): number {
  if (a === -Infinity) return b;
  if (b === -Infinity) return a;
  const hi = a > b ? a : b;
  const lo = a > b ? b : a;
  return hi + Math.log1p(Math.exp(lo - hi));
}

/** ln(e^a - e^b) for a >= b (returns -Infinity when a === b). */
export function logSub(a: number, b: number): number {
  if (b === -Infinity) return a;
  if (a === b) return -Infinity;
  return a + log1mExp(b - a);
}

/** ln(1 - e^x) for x <= 0, accurate near 0 and for very negative x (Mächler 2012). */
export function log1mExp(x: number): number {
  if (x > -Math.LN2) return Math.log(-Math.expm1(x));
  return Math.log1p(-Math.exp(x));
}

/** ln(e^x - 1) for x > 0. */
export function logExpm1(x: number): number {
  if (x > 50) return x + Math.log1p(-Math.exp(-x));
  return Math.log(Math.expm1(x));
}

/** Neumaier-compensated sum of `n` values of `xs`. */
export function compensatedSum(xs: ArrayLike<number>, n: number = xs.length): number {
  let sum = 0;
  let comp = 0;
  for (let i = 0; i < n; i++) {
    const x = xs[i];
    const t = sum + x;
    if (Math.abs(sum) >= Math.abs(x)) comp += sum - t + x;
    else comp += x - t + sum;
    sum = t;
  }
  return sum + comp;
}
