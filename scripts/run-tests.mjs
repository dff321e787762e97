// Runs every node test file (`*.test.ts`) under the given folders with node's own test runner.
// Node 20's `--test` takes no glob patterns, so the files are found here.
import { spawn } from 'node:child_process';
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const folders = process.argv.slice(2);
const roots = folders.length > 0 ? folders : ['packages', 'reference-server', 'test', 'bench'];

async function find(dir) {
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch {
    return [];
  }
  const found = await Promise.all(
    entries.map((entry) => {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) {
        return entry.name === 'node_modules' || entry.name === 'dist' ? [] : find(full);
      }
      // `*.browser.test.ts` files run in Chromium (web-test-runner), not here.
      return entry.name.endsWith('.test.ts') &&
        !entry.name.endsWith('.browser.test.ts') &&
        !entry.name.startsWith('.')
        ? [full]
        : [];
    }),
  );
  return found.flat();
}

const files = (await Promise.all(roots.map((r) => find(path.resolve(root, r))))).flat().sort();
if (files.length === 0) {
  console.error(`No test files under ${roots.join(', ')}`);
  process.exit(1);
}
const child = spawn(
  process.execPath,
  [
    '--conditions=source',
    '--import',
    'tsx',
    '--test',
    '--test-concurrency=2',
    // A test that hangs fails after this long instead of holding CI until its deadline. The bound
    // applies to each file as a whole too, so no test inside one can be given longer.
    '--test-timeout=300000',
    ...files,
  ],
  { cwd: root, stdio: 'inherit' },
);
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
