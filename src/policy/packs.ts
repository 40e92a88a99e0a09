/** Where the default policy packs live: `policies/` at the root of the installed credwarden package. */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export function defaultPacksDir(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg) && (JSON.parse(readFileSync(pkg, 'utf8')) as { name?: string }).name === 'credwarden')
      return join(dir, 'policies');
    dir = dirname(dir);
  }
  throw new Error('cannot locate the credwarden package root (for its default policy packs)');
}
