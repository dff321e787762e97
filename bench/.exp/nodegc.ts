import { hashBlocks } from '../../packages/sdk/src/hashing.js';
import { randomBytes } from 'node:crypto';
const N = Number(process.argv[2] ?? 200);
let hangs = 0;
for (let i = 0; i < N; i++) {
  const file = new File([randomBytes(1024 * 1024 + i * 37)], 'a.pdf');
  let got: string | undefined;
  void hashBlocks(file, new AbortController().signal).then((h) => (got = h.contentHash), (e) => (got = 'error ' + e));
  const start = performance.now();
  while (!got && performance.now() - start < 2000) {
    (globalThis as any).gc?.();
    await new Promise((r) => setTimeout(r, 1));
  }
  if (!got) hangs++;
}
console.log('node default-stream hangs', hangs, 'of', N);
