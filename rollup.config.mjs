// Builds every browser package to an ES module with bundled type declarations.
import { nodeResolve } from '@rollup/plugin-node-resolve';
import esbuild from 'rollup-plugin-esbuild';
import { dts } from 'rollup-plugin-dts';

/** Browser packages: source entry and output folder. */
const packages = ['packages/protocol'];

/** One factory for every browser package: JS and .d.ts from the same entry. */
function browserPackage(dir) {
  const input = `${dir}/src/index.ts`;
  const external = (id) => id.startsWith('@file-uploader/');
  return [
    {
      input,
      external,
      output: { file: `${dir}/dist/index.js`, format: 'es', sourcemap: true },
      plugins: [
        nodeResolve({ exportConditions: ['production'] }),
        esbuild({ target: 'es2022', tsconfig: 'tsconfig.base.json' }),
      ],
    },
    {
      input,
      external,
      output: { file: `${dir}/dist/index.d.ts`, format: 'es' },
      plugins: [dts({ tsconfig: 'tsconfig.base.json' })],
    },
  ];
}

/** Example pages: one bundle each, with their dependencies inside. */
function examplePage(dir) {
  return {
    input: `${dir}/src/main.ts`,
    output: { file: `${dir}/dist/main.js`, format: 'es', sourcemap: true },
    plugins: [
      nodeResolve({ exportConditions: ['source', 'production'], extensions: ['.ts', '.js'] }),
      esbuild({ target: 'es2022', tsconfig: 'tsconfig.base.json', minify: true }),
    ],
  };
}

export default [...packages.flatMap(browserPackage), examplePage('examples/vanilla')];
