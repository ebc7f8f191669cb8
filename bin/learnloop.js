#!/usr/bin/env node
// Entry point of the learnloop command; the compiled CLI lives in dist/ (built by `npm ci`).
import { existsSync } from 'node:fs';

const main = new URL('../dist/src/cli/main.js', import.meta.url);
// Only a missing main.js means "not built": any other load error is a real one and is shown as is.
if (!existsSync(main)) {
  console.error('learnloop: not built yet; run `npm ci` (or `npm run build`) first');
  process.exit(1);
}
import(main.href).then((m) => m.main(process.argv)).catch((err) => {
  console.error(err);
  process.exit(1);
});
