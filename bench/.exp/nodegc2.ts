import { hashBlocks } from '../../packages/sdk/src/hashing.js';
import { randomBytes } from 'node:crypto';
const ROUNDS = Number(process.argv[2] ?? 30);
let hangs = 0;
for (let r = 0; r < ROUNDS; r++) {
  const got: (string | undefined)[] = [];
  for (let i = 0; i < 20; i++) {
    const file = new File([randomBytes(1024 * 1024 + i * 37_123)], `f${i}.pdf`);
    void hashBlocks(file, new AbortController().signal).then((h) => (got[i] = h.contentHash), (e) => (got[i] = 'error ' + e));
  }
  const start = performance.now();
  while (got.filter(Boolean).length < 20 && performance.now() - start < 3000) {
    if (process.env.GC) (globalThis as any).gc?.();
    await new Promise((r) => setTimeout(r, 1));
  }
  hangs += 20 - got.filter(Boolean).length;
}
console.log('hangs', hangs, 'of', ROUNDS * 20);
