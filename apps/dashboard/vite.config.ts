import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

// The dashboard is served by `parley serve` under a strict CSP
// (script-src 'self'; style-src 'self'), so the build must emit only files:
// no inline scripts, no <style> tags, no inlined assets as data: URLs.
export default defineConfig({
  plugins: [react()],
  base: '/',
  build: {
    outDir: 'dist',
    assetsDir: 'assets',
    emptyOutDir: true,
    // The polyfill would be bundled into the entry chunk; every browser we
    // support handles <link rel="modulepreload"> natively.
    modulePreload: { polyfill: false },
    // Never turn small assets into data: URLs (fonts under data: would break
    // the CSP's default-src 'self').
    assetsInlineLimit: 0,
    sourcemap: false,
  },
  server: {
    // `vite` dev server: forward API calls to a locally running `parley serve`.
    proxy: { '/api': 'http://localhost:3000' },
  },
});
