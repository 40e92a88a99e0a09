/**
 * Rewrites the README's remediation permissions block from the action registry
 * (src/actions/permissions-doc.ts). `npm run docs:permissions`; `--check` exits 1 when stale.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { actionTypes } from '../src/actions/index.js';
import { withPermissions } from '../src/actions/permissions-doc.js';

const path = fileURLToPath(new URL('../README.md', import.meta.url));
const before = readFileSync(path, 'utf8');
const after = withPermissions(before, actionTypes());
if (process.argv.includes('--check')) {
  if (before !== after) {
    console.error('docs-permissions: README.md is stale: run npm run docs:permissions');
    process.exit(1);
  }
} else if (before !== after) {
  writeFileSync(path, after);
  console.log('docs-permissions: README.md updated');
} else console.log('docs-permissions: README.md is up to date');
