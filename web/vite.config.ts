// vite.config.ts: SvelteKit (3: configured here, not in svelte.config.js) through Vite. The dashboard is a static
// single-page app: adapter-static writes web/build with an index.html fallback, which the Drover server serves for
// every non-/api path. In development the dev server proxies /api (and its SSE streams) to a running Drover server
// at DROVER_API_URL (default http://127.0.0.1:3000).
import adapter from '@sveltejs/adapter-static';
import { sveltekit } from '@sveltejs/kit/vite';
import { defineConfig } from 'vite';

const api = process.env.DROVER_API_URL ?? 'http://127.0.0.1:3000';

export default defineConfig({
  plugins: [
    sveltekit({
      adapter: adapter({ pages: 'build', assets: 'build', fallback: 'index.html', precompress: false, strict: true }),
      compilerOptions: { runes: true },
    }),
  ],
  server: { proxy: { '/api': { target: api, changeOrigin: false } } },
  build: { target: 'es2022', reportCompressedSize: false },
});
