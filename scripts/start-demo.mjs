// `npm start`: the reference server in dev mode, serving the example page.
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
process.env.DEV_MODE ??= '1';
process.env.PORT ??= '8080';
process.env.HOST ??= '127.0.0.1';
process.env.DATA_DIR ??= path.join(root, 'data');
process.env.STATIC_DIR ??= path.join(root, 'examples/vanilla');
console.log(`Demo: http://localhost:${process.env.PORT}/`);
await import('../reference-server/dist/cli.js');
