/**
 * The complementary error function and the standard normal CDF to near double precision over the whole line,
 * including far tails (erfc(26) ~ 5.7e-296), as the analytic Gaussian calibration needs Phi of large negative
 * arguments where 1 - erf(x) has already underflowed to 0. Follows W. J. Cody, "Rational Chebyshev
 * approximations for the error function", Math. Comp. 23 (1969) 631-637: three rational approximations on
 * [0, 0.46875], [0.46875, 4] and [4, inf), with exp(-x^2) split as exp(-xs^2) exp(-(x-xs)(x+xs)) to keep
 * its relative accuracy. Calibration only: nothing here is on a sampling path.
 * @module
 */

const A = [3.1611237438705656, 113.86415415105016, 377.485237685302, 3209.3775891384694, 0.18577770618460315];
const B = [23.601290952344122, 244.02463793444417, 1282.6165260773723, 2844.236833439171];
const C = [
  0.5641884969886701, 8.883149794388377, 66.11919063714163, 298.635138197400131, 881.952221241769090,
  1712.0476126340707, 2051.0783778260716, 1230.3393547979972, 2.1531153547440383e-8,
];
const D = [
  15.744926110709835, 117.6939508913125, 537.1811018620099, 1621.3895745666903, 3290.7992357334597,
  4362.619090143247, 3439.3676741437216, 1230.3393548037495,
];
const P = [0.30532663496123236, 0.36034489994980445, 0.12578172611122926, 0.016083785148742275, 6.587491615298378e-4, 0.016315387137302097];
const Q = [2.568520192289822, 1.8729528499234604, 0.5279051029514284, 0.06051834131244132, 0.0023352049762686918];
const INV_SQRT_PI = 0.5641895835477563;

function expMinusSquare(y: number): number {
  const ys = Math.trunc(y * 16) / 16;
  return Math.exp(-ys * ys) * Math.exp(-(y - ys) * (y + ys));
}

/**
 * erfc(x) = 1 - erf(x) with relative error about 1e-15 for all finite x (Cody 1969).
 * @example
 * ```ts
 * erfc(10); // 2.088487583762545e-45
 * ```
 */
export function erfc(x: number): number {
  if (Number.isNaN(x)) return Number.NaN;
  const y = Math.abs(x);
  let r: number;
  if (y <= 0.46875) {
    const z = y * y;
    let num = A[4] * z;
    let den = z;
    for (let i = 0; i < 3; i++) {
      num = (num + A[i]) * z;
      den = (den + B[i]) * z;
    }
    const erfVal = (x * (num + A[3])) / (den + B[3]);
    return 1 - erfVal;
  }
  if (y <= 4) {
    let num = C[8] * y;
    let den = y;
    for (let i = 0; i < 7; i++) {
      num = (num + C[i]) * y;
      den = (den + D[i]) * y;
    }
    r = ((num + C[7]) / (den + D[7])) * expMinusSquare(y);
  } else if (y >= 27) {
    r = 0;
  } else {
    const z = 1 / (y * y);
    let num = P[5] * z;
    let den = z;
    for (let i = 0; i < 4; i++) {
      num = (num + P[i]) * z;
      den = (den + Q[i]) * z;
    }
    const s = (z * (num + P[4])) / (den + Q[4]);
    r = ((INV_SQRT_PI - s) / y) * expMinusSquare(y);
  }
  return x < 0 ? 2 - r : r;
}

/**
 * The standard normal CDF Phi(x) = erfc(-x / sqrt 2) / 2, accurate in relative terms in the lower tail.
 * @example
 * ```ts
 * normalCdf(-1.959963984540054); // 0.025
 * ```
 */
export function normalCdf(x: number): number {
  return 0.5 * erfc(-x * Math.SQRT1_2);
}
