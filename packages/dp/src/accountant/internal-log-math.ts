/**
 * Internal log-space functions shared by the accountants (not part of the public API): stable ln(e^a + e^b),
 * ln(e^a - e^b), ln(1 - e^x) and ln(e^x - 1), and a compensated (Neumaier) sum for signed series.
 * @module
 */

/** ln(e^a + e^b) without overflow. */
export function logAdd(a: number, b: number): number {
  if (a === -Infinity) return b;
  if (b === -Infinity) return a;
  const hi = Math.max(a, b);
  const lo = Math.min(a, b);
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

/**
 * Minimum value of a quasi-convex `f` on `[a, b]` by golden-section search, stopping after `maxIter`
 * iterations or when the bracket is narrower than `tol`.
 * @example
 * ```ts
 * goldenSectionMin((u) => (u - 1) ** 2, -5, 5, 100, 1e-12); // ~0
 * ```
 */
export function goldenSectionMin(f: (u: number) => number, a: number, b: number, maxIter: number, tol: number): number {
  const g = (Math.sqrt(5) - 1) / 2;
  let c = b - g * (b - a);
  let d = a + g * (b - a);
  let fc = f(c);
  let fd = f(d);
  for (let it = 0; it < maxIter && b - a > tol; it++) {
    if (fc < fd) {
      b = d;
      d = c;
      fd = fc;
      c = b - g * (b - a);
      fc = f(c);
    } else {
      a = c;
      c = d;
      fc = fd;
      d = a + g * (b - a);
      fd = f(d);
    }
  }
  return Math.min(fc, fd);
}
