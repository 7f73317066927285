import { vi } from 'vitest';
import { readCsv, numericRows, numericColumn, seededTestRng, uniformDouble } from '@ppml/core';
vi.mock('../src/mechanisms/index.ts', () => ({
  sampleGaussianNoise: (out: Float64Array, sigma: number, rng: any) => {
    for (let i = 0; i < out.length; i++) { const u = uniformDouble(rng) || 1e-300, v = uniformDouble(rng); out[i] = sigma * Math.sqrt(-2*Math.log(u))*Math.cos(2*Math.PI*v); }
    return out;
  },
}));
function lse(a: number, b: number) { const m = Math.max(a,b); return m === -Infinity ? m : m + Math.log(Math.exp(a-m)+Math.exp(b-m)); }
function lgam(n: number) { let s = 0; for (let i = 2; i <= n; i++) s += Math.log(i); return s; }
function rdp(q: number, s: number, a: number) { if (q===1) return a/(2*s*s); let la = -Infinity; for (let i=0;i<=a;i++){ const t = lgam(a)-lgam(i)-lgam(a-i) + i*Math.log(q)+(a-i)*Math.log(1-q)+(i*i-i)/(2*s*s); la = lse(la,t);} return la/(a-1); }
function eps({ noiseMultiplier, sampleRate, steps, delta }: any) { let best = Infinity; for (let a = 2; a <= 64; a++) { const r = steps*rdp(sampleRate, noiseMultiplier, a); const e = r + Math.log((a-1)/a) - (Math.log(delta)+Math.log(a))/(a-1); best = Math.min(best, e);} return Math.max(0,best); }
vi.mock('../src/accountant/index.ts', () => ({
  computeEpsilon: (o: any) => eps(o),
  calibrateNoiseMultiplier: (o: any) => { let lo = 0, hi = 10; while (eps({...o, noiseMultiplier: hi}) > o.targetEpsilon) hi *= 2; while (true) { const mid = (lo+hi)/2; if (eps({...o, noiseMultiplier: mid}) < o.targetEpsilon) hi = mid; else lo = mid; if (o.targetEpsilon - eps({...o, noiseMultiplier: hi}) <= 0.01) return hi; } },
  privacyStatement: () => 'stmt',
}));
await import('./train.test.ts');
await import('./sgd.test.ts');
