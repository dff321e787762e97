import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

// `@file-uploader/element` resolves to its built dist/ files (run `rollup -c` at the repo root
// first, as `npm run build` does): the example uses the package exactly as an app that installs
// it from npm would, with this config unchanged.
export default defineConfig({
  // Relative asset URLs: the reference server serves dist/ as STATIC_DIR at `/`, and the same
  // build also works from any other path.
  base: './',
  plugins: [react()],
  build: { outDir: 'dist', emptyOutDir: true },
  // `vite` (dev server): the API and the dev token come from a reference server started with
  // `npm start` (DEV_MODE=1, port 8080).
  server: {
    proxy: { '/api': 'http://127.0.0.1:8080', '/dev/token': 'http://127.0.0.1:8080' },
  },
});
