# Independent high-precision computation for Gaussian-thresholding partition selection as used by @ppml/dp
# (Google's GaussianPartitionSelection: delta split evenly between the noise and the threshold):
# - sigmaTight: the analytic Gaussian sigma (Balle & Wang 2018, Thm 8) for (epsilon, delta/2) and L2 sensitivity
#   sqrt(m), the smallest sigma with Phi(D/(2s) - eps s/D) - e^eps Phi(-D/(2s) - eps s/D) <= delta/2 (mpmath
#   bisection to 1e-30 relative; Phi by mpmath erfc);
# - z: the threshold in noise units, tau = 1 + sigma z with 1 - (1 - Q(z))^m = delta/2 (mpmath bisection);
# - deltas: 1 - (1 - Q((tau - 1)/sigma))^m at a few (tau, sigma, m) points.
# Run: python3 partition-selection-gaussian.py (mpmath 1.3.0) > partition-selection-gaussian.json
import json
from mpmath import mp, mpf, erfc, exp, sqrt, log

mp.dps = 50


def Phi(x):
    return erfc(-x / sqrt(2)) / 2


def Q(x):
    return erfc(x / sqrt(2)) / 2


def gdelta(s, eps, d):
    return Phi(d / (2 * s) - eps * s / d) - exp(eps) * Phi(-d / (2 * s) - eps * s / d)


def sigma_tight(eps, delta, d):
    lo, hi = mpf(0) + mpf("1e-6"), mpf(1)
    while gdelta(hi, eps, d) > delta:
        hi *= 2
    for _ in range(400):
        mid = (lo + hi) / 2
        if gdelta(mid, eps, d) <= delta:
            hi = mid
        else:
            lo = mid
    return hi


def z_of(delta_half, m):
    per = 1 - (1 - delta_half) ** (mpf(1) / m)
    lo, hi = mpf(-40), mpf(40)
    for _ in range(400):  # Q is decreasing: bisection on Q(z) = per
        mid = (lo + hi) / 2
        if Q(mid) > per:
            lo = mid
        else:
            hi = mid
    return hi


def sel_delta(tau, sigma, m):
    return 1 - (1 - Q((tau - 1) / sigma)) ** m


cases = []
for eps_text, target, m in [("1", "1e-6", 1), ("0.5", "1e-8", 4), ("ln3", "1e-5", 10), ("2", "0.05", 1), ("0.1", "1e-9", 100)]:
    eps = log(3) if eps_text == "ln3" else mpf(eps_text)
    half = mpf(target) / 2
    s = sigma_tight(eps, half, sqrt(m))
    cases.append({
        "epsilon": eps_text,
        "delta": float(mpf(target)),
        "maxPartitionsPerUser": m,
        "sigmaTight": float(s),
        "z": float(z_of(half, m)),
    })
deltas = []
for tau, sigma, m in [(20, 4, 1), (10, 2.5, 3), (3.5, 1, 1), (120, 20, 50), (1, 3, 2)]:
    deltas.append({"threshold": tau, "sigma": sigma, "maxPartitionsPerUser": m, "delta": float(sel_delta(mpf(tau), mpf(sigma), m))})
print(json.dumps({
    "source": "packages/dp/test/vectors/partition-selection-gaussian.py (mpmath 1.3.0, 50 digits)",
    "tolerance": "sigma within [1, 1 + 1e-8] of sigmaTight (1 + 2^-20); (threshold - 1)/sigma within [z, z + 1e-5]; deltas 1e-9 relative",
    "note": "the library inflates the analytic sigma by 1 + 2^-20 (discrete noise on a 2^-30 sigma grid), as gaussianMechanism does",
    "cases": cases,
    "deltas": deltas,
}, indent=2))
