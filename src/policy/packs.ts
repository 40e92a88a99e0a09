/** Where the default policy packs live: `policies/` at the root of the installed credwarden package. */
import { join } from 'node:path';
import { packageRoot } from '../util/package-root.js';

export function defaultPacksDir(): string {
  return join(packageRoot().dir, 'policies');
}
