// In-process simulation of the parties' exact-wrap truncation (shares of all parties in one thread).
import { seededTestRng } from '@ppml/core';
import { dealMaterial, receiveMaterial } from '../../src/preprocessing.ts';
import { add, sub, truncCombine, truncPublic } from '../../src/ring.ts';

const BIAS = 1n << 62n;

/** Truncates z (given in the clear) after splitting it into additive shares, as `parties` parties would. */
export function truncateShared(z: BigUint64Array, parties: number, f: number, rngSeed: number): BigUint64Array {
  const n = z.length;
  const rng = seededTestRng(rngSeed);
  // Additive shares of z: parties-1 random ones and the rest.
  const shares: BigUint64Array[] = [];
  const last = z.slice();
  for (let p = 0; p < parties - 1; p++) {
    const s = new BigUint64Array(n);
    rng.fillBytes(new Uint8Array(s.buffer));
    sub(last, s, last);
    shares.push(s);
  }
  shares.push(last);
  const views = dealMaterial({ key: 't', kind: 'trunc', count: n, shift: f }, parties, false).map((m, p) =>
    receiveMaterial(m, p, parties, false),
  );
  const c = new BigUint64Array(n);
  for (let p = 0; p < parties; p++) {
    const masked = add(shares[p], (views[p].fields.get('r') as BigUint64Array[])[0]);
    if (p === 0) for (let i = 0; i < n; i++) masked[i] = BigInt.asUintN(64, masked[i] + BIAS);
    add(c, masked, c);
  }
  const sk = new BigUint64Array(n);
  const pub = truncPublic(c, f, sk);
  const out = new BigUint64Array(n);
  for (let p = 0; p < parties; p++) {
    const v = views[p].fields;
    add(out, truncCombine(p === 0 ? pub : null, (v.get('lo') as BigUint64Array[])[0], (v.get('hi') as BigUint64Array[])[0], sk), out);
  }
  return out;
}

/** Truncates `chunks` million random products by 2^16 with 3 parties; returns the worst error and off-by-ones. */
export function truncationErrors(chunks: number): { worst: bigint; offByOne: number; total: number } {
  const CHUNKS = chunks;
  const f = 16;
  const chunk = 1_000_000;
  const rng = seededTestRng('trunc-inputs');
  let worst = 0n;
  let offByOne = 0;
  for (let k = 0; k < CHUNKS; k++) {
    // Products of two inputs with |x| <= 2^15 (the default input range): |z| < 2^62 at 2f = 32 fractional bits.
    const z = new BigUint64Array(chunk);
    rng.fillBytes(new Uint8Array(z.buffer));
    for (let i = 0; i < chunk; i++) z[i] = BigInt.asUintN(64, BigInt.asIntN(62, z[i]));
    const got = truncateShared(z, 3, f, 1000 + k);
    for (let i = 0; i < chunk; i++) {
      const want = BigInt.asIntN(64, z[i]) >> 16n;
      const d = BigInt.asIntN(64, got[i]) - want;
      if (d < 0n || d > 1n) worst = d;
      if (d === 1n) offByOne++;
    }
  }
  return { worst, offByOne, total: CHUNKS * chunk };
}
