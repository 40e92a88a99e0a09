/** The installed credwarden package: its root directory (where `policies/` ships) and its version. */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

let found: { dir: string; version: string } | undefined;

export function packageRoot(): { dir: string; version: string } {
  if (found) return found;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg)) {
      const meta = JSON.parse(readFileSync(pkg, 'utf8')) as { name?: string; version?: string };
      if (meta.name === 'credwarden') {
        found = { dir, version: meta.version ?? '0.0.0' };
        return found;
      }
    }
    dir = dirname(dir);
  }
  throw new Error('cannot locate the credwarden package root (its package.json)');
}
