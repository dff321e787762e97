// `npm start`: the reference server in dev mode, serving the example page.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
process.env.DEV_MODE ??= '1';
process.env.PORT ??= '8080';
process.env.HOST ??= '127.0.0.1';
process.env.DATA_DIR ??= path.join(root, 'data');
process.env.STATIC_DIR ??= path.join(root, 'examples/vanilla');

// The page loads /file-uploader.js, which `npm run build` (rollup) copies into the example.
const bundle = path.join(root, 'examples/vanilla/file-uploader.js');
if (process.env.STATIC_DIR === path.join(root, 'examples/vanilla') && !existsSync(bundle)) {
  console.error(
    `${path.relative(root, bundle)} is missing: run \`npm run build\` (or \`npm start\`).`,
  );
  process.exit(1);
}
console.log(`Demo: http://localhost:${process.env.PORT}/`);
await import('../reference-server/dist/cli.js');
