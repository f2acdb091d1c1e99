// Builds the admin page from web/ into dist/web, which `gatehouse start` serves.
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';

const root = fileURLToPath(new URL('.', import.meta.url));

export default defineConfig({
  root,
  base: '/',
  plugins: [react()],
  build: {
    outDir: fileURLToPath(new URL('../dist/web', import.meta.url)),
    emptyOutDir: true,
    sourcemap: false,
  },
  server: {
    // `npx vite --config web/vite.config.ts` against a server on GATEHOUSE_URL (default :4280).
    proxy: { '/api': process.env.GATEHOUSE_URL ?? 'http://127.0.0.1:4280' },
  },
});
