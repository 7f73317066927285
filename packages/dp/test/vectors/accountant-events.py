"""Reference values for the privacy events added to the accountants: randomized response, pure and (epsilon, delta)
events, the exponential mechanism. Independent of ppml's code: every number is computed here from the definitions
with mpmath at 50 significant digits.

- RDP: D_alpha(P||Q) = ln(sum_o P(o)^alpha Q(o)^(1-alpha)) / (alpha - 1), summed over the outputs of the
  mechanism's worst pair of neighbouring inputs (k-ary randomized response: the true value and another one;
  pure epsilon-DP: binary randomized response at epsilon, Kairouz, Oh, Viswanath 2015).
- Exponential mechanism (epsilon-bounded-range, Durfee & Rogers 2019): sup over t in (0, epsilon) of the RDP of
  the two-point pair with privacy losses t and t - epsilon (Cesar & Rogers 2021), maximised with mpmath's
  findroot on the derivative after a 2000-point grid; checked against their closed-form KL at alpha -> 1.
- PLD: delta(eps') of n-fold compositions, exactly: for k-ary randomized response by summing the trinomial
  distribution of the total privacy loss; for (epsilon, delta) events by the optimal composition theorem of
  Kairouz, Oh, Viswanath 2015 (Thm 3.3) at eps' = (n - 2i) epsilon. For the grid h = 1e-4 used in the test, a pessimistic discretization that rounds every loss up by
  at most h cannot report less than the exact delta at eps', nor more than the exact delta at eps' - n*h, which
  is `delta_upper`).

Run: python3 accountant-events.py > accountant-events.json (mpmath 1.3.0).
"""
import json
import mpmath as mp

mp.mp.dps = 50


def rdp_pairs(P, Q, alpha):
    s = mp.fsum(p ** alpha * q ** (1 - alpha) for p, q in zip(P, Q))
    return mp.log(s) / (alpha - 1)


def rr_pair(p, k):
    a = 1 - p + p / k
    b = p / k
    P = [a, b] + [b] * (k - 2)
    Q = [b, a] + [b] * (k - 2)
    return P, Q


def br_rdp(eps, alpha):
    def f(t):
        q = (1 - mp.e ** (t - eps)) / (mp.e ** t * (1 - mp.e ** (-eps)))
        return mp.log(q * mp.e ** (alpha * t) + (1 - q) * mp.e ** (alpha * (t - eps))) / (alpha - 1)
    grid = [eps * (i + 0.5) / 2000 for i in range(2000)]
    t0 = max(grid, key=f)
    try:
        t = mp.findroot(lambda u: mp.diff(f, u), t0)
        if not (0 < t < eps) or f(t) < f(t0):
            t = t0
    except Exception:
        t = t0
    return f(t)


def br_kl(eps):
    r = eps / (mp.e ** eps - 1)
    return r - 1 - mp.log(r)


orders = [1.5, 2, 3, 5, 8, 16, 32, 64]
out = {
    "source": "packages/dp/test/vectors/accountant-events.py (mpmath 1.3.0, 50 digits; definitions in its docstring)",
    "tolerance": {"rdp_relative": 1e-9, "exponential_relative": 1e-6},
    "randomizedResponseRdp": [],
    "pureDpRdp": [],
    "exponentialRdp": [],
    "exponentialKl": [],
    "randomizedResponsePld": [],
    "epsilonDeltaPld": [],
}
for p, k in [(0.5, 2), (0.1, 2), (0.9, 2), (0.5, 3), (0.2, 10), (0.75, 100)]:
    P, Q = rr_pair(mp.mpf(p), k)
    for a in orders:
        out["randomizedResponseRdp"].append({"noiseParameter": p, "buckets": k, "order": a, "rdp": float(rdp_pairs(P, Q, mp.mpf(a)))})
for eps in [0.01, 0.1, 0.5, 1, 2, 5]:
    e = mp.mpf(eps)
    P = [mp.e ** e / (1 + mp.e ** e), 1 / (1 + mp.e ** e)]
    for a in orders:
        out["pureDpRdp"].append({"epsilon": eps, "order": a, "rdp": float(rdp_pairs(P, P[::-1], mp.mpf(a)))})
    for a in [1.5, 2, 4, 10, 32]:
        out["exponentialRdp"].append({"epsilon": eps, "order": a, "rdp": float(br_rdp(e, mp.mpf(a)))})
    # the BR supremum tends to the closed-form KL as alpha -> 1 (evidence that the sup is the right one)
    near = br_rdp(e, mp.mpf(1) + mp.mpf(10) ** -12)
    assert abs(near - br_kl(e)) <= 1e-9 * br_kl(e) + mp.mpf(10) ** -30, (eps, near, br_kl(e))
    out["exponentialKl"].append({"epsilon": eps, "kl": float(br_kl(e))})

H = mp.mpf("1e-4")


def rr_delta(p, k, n, epsp):
    a = 1 - p + p / k
    b = p / k
    L = mp.log(a / b)
    tot = mp.mpf(0)
    for i in range(n + 1):
        for j in range(n - i + 1):
            m = n - i - j
            pr = mp.factorial(n) / (mp.factorial(i) * mp.factorial(j) * mp.factorial(m)) * a ** i * ((k - 2) * b) ** j * b ** m
            loss = (i - m) * L
            if loss > epsp:
                tot += pr * (1 - mp.e ** (epsp - loss))
    return tot


for p, k, n, epsp in [(0.5, 2, 10, 2.0), (0.5, 3, 20, 3.0), (0.3, 5, 15, 4.0), (0.8, 2, 50, 1.0)]:
    pm = mp.mpf(p)
    out["randomizedResponsePld"].append({
        "noiseParameter": p, "buckets": k, "count": n, "epsilon": epsp,
        "delta": float(rr_delta(pm, k, n, mp.mpf(epsp))),
        "delta_upper": float(rr_delta(pm, k, n, mp.mpf(epsp) - n * H)),
    })


def kov_delta(eps, delta, n, i):
    s = mp.fsum(mp.binomial(n, l) * (mp.e ** ((n - l) * eps) - mp.e ** ((n - 2 * i + l) * eps)) for l in range(i))
    di = s / (1 + mp.e ** eps) ** n
    return 1 - (1 - delta) ** n * (1 - di)


def pair_delta(eps, delta, n, epsp):
    up = (1 - delta) * mp.e ** eps / (1 + mp.e ** eps)
    down = (1 - delta) / (1 + mp.e ** eps)
    tot = 1 - (1 - delta) ** n
    for j in range(n + 1):
        loss = (2 * j - n) * eps
        if loss > epsp:
            tot += mp.binomial(n, j) * up ** j * down ** (n - j) * (1 - mp.e ** (epsp - loss))
    return tot


for eps, delta, n, i in [(0.1, 0, 30, 10), (0.1, 1e-8, 30, 12), (0.5, 1e-6, 10, 3), (1.0, 0, 8, 2), (0.05, 1e-9, 100, 40)]:
    e = mp.mpf(eps)
    epsp = (n - 2 * i) * e
    kov = kov_delta(e, mp.mpf(delta), n, i)
    # the theorem and the direct sum over the composed pair agree (two independent routes to the same number)
    assert abs(kov - pair_delta(e, mp.mpf(delta), n, epsp)) <= mp.mpf(10) ** -40
    out["epsilonDeltaPld"].append({
        "epsilon": eps, "delta": delta, "count": n, "at": float(epsp),
        "composedDelta": float(kov),
        "delta_upper": float(pair_delta(e, mp.mpf(delta), n, epsp - n * H)),
    })
print(json.dumps(out, indent=1))
