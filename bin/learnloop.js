#!/usr/bin/env node
// Entry point of the learnloop command; the compiled CLI lives in dist/ (built by `npm ci`).
import('../dist/src/cli/main.js').then((m) => m.main(process.argv)).catch((err) => {
  if (err && err.code === 'ERR_MODULE_NOT_FOUND' && String(err.message).includes('dist/src/cli')) {
    console.error('learnloop: not built yet; run `npm ci` (or `npm run build`) first');
  } else {
    console.error(err);
  }
  process.exit(1);
});
