# Independent high-precision computation of the Laplace-thresholding delta for partition selection with DISCRETE
# Laplace noise, as used by @ppml/dp: P[1 + Z >= tau] for Z with P(z) proportional to exp(-|z|/b), summed term by
# term over the pmf (not the closed form used by the library), then delta = 1 - (1 - p)^m, and the smallest
# integer tau with delta <= target. Run: python3 partition-selection.py (mpmath 1.3.0) > partition-selection-laplace.json
import json
from mpmath import mp, mpf, exp, log, nsum, inf

mp.dps = 50


def tail(j, b):
    # P[Z >= j] = sum_{z >= j} exp(-|z|/b) / sum_z exp(-|z|/b), by explicit summation
    norm = 1 + 2 * nsum(lambda z: exp(-z / b), [1, inf])
    if j >= 0:
        s = nsum(lambda z: exp(-z / b), [j, inf])
    else:
        s = nsum(lambda z: exp(-abs(z) / b), [j, -1]) + 1 + nsum(lambda z: exp(-z / b), [1, inf])
    return s / norm


def delta(tau, b, m):
    return 1 - (1 - tail(tau - 1, b)) ** m


cases = []
for eps_text, b_text, target, m in [
    ("ln3", None, "1e-8", 1),
    ("ln3", None, "1e-4", 1),
    ("ln3", None, "0.01", 1),
    ("0.5", None, "0.02", 1),
    ("1", None, "1e-6", 3),
    ("0.25", None, "1e-9", 2),
]:
    eps = log(3) if eps_text == "ln3" else mpf(eps_text)
    b = m / eps
    t = int(mp.floor(1 - b * log(2 * mpf(target) / m))) - 3
    while delta(t, b, m) > mpf(target):
        t += 1
    cases.append({
        "epsilon": eps_text,
        "maxPartitionsPerUser": m,
        "delta": float(mpf(target)),
        "threshold": t,
        "deltaAtThreshold": float(delta(t, b, m)),
        "deltaBelowThreshold": float(delta(t - 1, b, m)),
    })
print(json.dumps({
    "source": "packages/dp/test/vectors/partition-selection.py (mpmath 1.3.0, 50 digits, explicit pmf summation)",
    "tolerance": "threshold exact; deltas 1e-9 relative",
    "note": "scale b = m / epsilon exactly; the library rounds b up to 24 significant bits, which can only lower delta",
    "cases": cases,
}, indent=2))
