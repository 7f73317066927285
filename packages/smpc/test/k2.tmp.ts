import * as ring from '../src/ring.ts';
const N = 1 << 20;
const a = new BigUint64Array(N).map((_, i) => BigInt(i) * 0x9e3779b97f4a7c15n & 0xffffffffffffffffn), b = a.slice().reverse(), o = new BigUint64Array(N);
function xor(a: BigUint64Array, b: BigUint64Array, o: BigUint64Array) { for (let i = 0; i < a.length; i++) o[i] = a[i] ^ b[i]; }
const t = (name: string, fn: () => unknown) => { for (let r = 0; r < 5; r++) fn(); const s = performance.now(); for (let r = 0; r < 10; r++) fn(); console.log(name, (N * 10 / (performance.now() - s) / 1000).toFixed(0), 'M/s'); };
const tb = new ArrayBuffer(8); structuredClone(tb, { transfer: [tb] });
t('local xor', () => xor(a, b, o));
t('ring.xor into', () => ring.xor(a, b, o));
t('ring.xor alloc', () => ring.xor(a, b));
t('ring.shiftLeft into', () => ring.shiftLeft(a, 4, o));
t('ring.shiftLeft alloc', () => ring.shiftLeft(a, 4));
t('ring.add into', () => ring.add(a, b, o));
t('subarray xor', () => ring.xor(a.subarray(0, N / 2), b.subarray(N / 2), o.subarray(0, N / 2)));
t('ring.xor into again', () => ring.xor(a, b, o));
