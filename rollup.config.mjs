// Builds every browser package to an ES module with bundled type declarations.
import { nodeResolve } from '@rollup/plugin-node-resolve';
import esbuild from 'rollup-plugin-esbuild';
import { dts } from 'rollup-plugin-dts';

/** Browser packages: folder and entry points (`src/<entry>.ts` -> `dist/<entry>.js`). */
const packages = [
  { dir: 'packages/protocol', entries: ['index'] },
  { dir: 'packages/sdk', entries: ['index', 'node'] },
  { dir: 'packages/element', entries: ['index', 'define', 'locales/de'] },
];

/** Bare imports stay imports: a package's dependencies are installed beside it. */
const external = (id) => !id.startsWith('.') && !id.startsWith('/') && !id.startsWith('\0');

/**
 * One factory for every browser package: JS and .d.ts from the same entries, built together so
 * code the entries share lands in one shared chunk (one `UploadError` class, not two).
 */
function browserPackage({ dir, entries }) {
  const input = Object.fromEntries(entries.map((entry) => [entry, `${dir}/src/${entry}.ts`]));
  return [
    {
      input,
      external,
      output: {
        dir: `${dir}/dist`,
        format: 'es',
        sourcemap: true,
        entryFileNames: '[name].js',
        chunkFileNames: 'shared-[hash].js',
      },
      plugins: [
        nodeResolve({ exportConditions: ['production'] }),
        esbuild({ target: 'es2022', tsconfig: 'tsconfig.base.json' }),
      ],
    },
    {
      input,
      external,
      output: {
        dir: `${dir}/dist`,
        format: 'es',
        entryFileNames: '[name].d.ts',
        chunkFileNames: 'shared-[hash].d.ts',
      },
      plugins: [dts({ tsconfig: 'tsconfig.base.json' })],
    },
  ];
}

/**
 * Collapses the whitespace of lit `css` templates in `*.styles.ts` files: esbuild minifies the
 * code around them but leaves template text as written. Only whitespace goes; descendant
 * combinators (a space between two selectors) stay.
 */
function minifyLitCss() {
  return {
    name: 'minify-lit-css',
    transform(code, id) {
      if (!id.endsWith('.styles.ts')) return null;
      return {
        code: code.replace(/css`([^`]*)`/g, (_whole, text) => {
          const compact = text
            .replace(/\s+/g, ' ')
            .replace(/\s*([{};,>])\s*/g, '$1')
            .replace(/:\s+/g, ':')
            .replace(/;}/g, '}')
            .trim();
          return `css\`${compact}\``;
        }),
        map: null,
      };
    },
  };
}

/**
 * `<file-uploader>` for one script tag: element, SDK, protocol and lit in one minified file.
 * The `production` condition drops lit's dev mode. A copy goes beside the vanilla example, which
 * the demo server (`npm start`) serves as `/file-uploader.js`.
 */
const standaloneElement = {
  input: 'packages/element/src/define.ts',
  output: [
    { file: 'packages/element/dist/file-uploader.js', format: 'es', sourcemap: true },
    { file: 'examples/vanilla/file-uploader.js', format: 'es', sourcemap: true },
  ],
  plugins: [
    nodeResolve({ exportConditions: ['source', 'production'], extensions: ['.ts', '.js'] }),
    minifyLitCss(),
    esbuild({ target: 'es2022', tsconfig: 'tsconfig.base.json', minify: true }),
  ],
};

/** German beside the one-file bundle: `<script type="module" src="/file-uploader-de.js">`. */
const standaloneGerman = {
  input: 'packages/element/src/locales/de.ts',
  output: { file: 'packages/element/dist/file-uploader-de.js', format: 'es', sourcemap: true },
  plugins: [
    nodeResolve({ exportConditions: ['source', 'production'], extensions: ['.ts', '.js'] }),
    esbuild({ target: 'es2022', tsconfig: 'tsconfig.base.json', minify: true }),
  ],
};

export default [...packages.flatMap(browserPackage), standaloneElement, standaloneGerman];
