import { createCipheriv, randomFillSync } from 'node:crypto';
const Z = new Uint8Array(65536), out = new Uint8Array(8 << 20);
for (const alg of ['aes-128-ctr', 'chacha20']) {
  for (let r = 0; r < 3; r++) {
    const t = performance.now();
    const c = createCipheriv(alg, new Uint8Array(alg === 'chacha20' ? 32 : 16), new Uint8Array(16));
    for (let off = 0; off < out.length; off += 65536) out.set(c.update(Z), off);
    console.log(alg, (performance.now() - t).toFixed(1), 'ms for 8MB');
  }
}
let t = performance.now(); randomFillSync(out); console.log('randomFill', (performance.now() - t).toFixed(1));
t = performance.now(); for (let off = 0; off < out.length; off += 65536) out.set(Z, off); console.log('copy', (performance.now() - t).toFixed(1));
