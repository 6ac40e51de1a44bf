import path from 'node:path';
import { fileURLToPath } from 'node:url';
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

const here = path.dirname(fileURLToPath(import.meta.url));

/** The page's build: web/ into dist/web, served by the service under its own path (src/settings-page.ts). */
export default defineConfig({
  root: here,
  base: '/settings/organization/models/',
  plugins: [react()],
  logLevel: 'warn',
  build: {
    outDir: path.join(here, '..', 'dist', 'web'),
    emptyOutDir: true,
    sourcemap: true,
    // The service's content security policy allows scripts and styles from itself only.
    assetsInlineLimit: 0,
    // One page, one chunk (React, Apollo Client and the documents): no splitting to advise.
    chunkSizeWarningLimit: 1024,
  },
});
