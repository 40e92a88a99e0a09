/**
 * The dashboard's static assets (src/web/assets/*.css, *.js): plain files, shipped in the package
 * as they are (no bundler, no third-party code, nothing fetched from a CDN). They are read once at startup and served
 * under content-hashed names (`/assets/app.3f2a9c1d.css`), cached for a year as immutable: a new
 * release changes the name, so a browser never mixes an old stylesheet with a new page.
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { extname, join } from 'node:path';
import { packageRoot } from '../util/package-root.js';

export interface Asset {
  /** The hashed file name, e.g. `app.3f2a9c1d.css`. */
  name: string;
  type: string;
  body: Buffer;
}

const TYPES: Record<string, string> = {
  '.css': 'text/css; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.svg': 'image/svg+xml',
};

/** Where the assets are: `src/web/assets` of the package, from the sources and when installed alike (package.json `files`). */
export function assetsDir(): string {
  return join(packageRoot().dir, 'src', 'web', 'assets');
}

export class Assets {
  private readonly byName = new Map<string, Asset>();
  private readonly hashed = new Map<string, string>();

  constructor(dir = assetsDir()) {
    for (const file of readdirSync(dir).sort()) {
      const ext = extname(file);
      const type = TYPES[ext];
      if (!type) continue;
      const body = readFileSync(join(dir, file));
      const hash = createHash('sha256').update(body).digest('hex').slice(0, 10);
      const name = `${file.slice(0, -ext.length)}.${hash}${ext}`;
      this.byName.set(name, { name, type, body });
      this.hashed.set(file, name);
    }
  }

  /** The URL of an asset by its file name (`app.css` → `/assets/app.<hash>.css`). */
  url(file: string): string {
    const name = this.hashed.get(file);
    if (!name) throw new Error(`no dashboard asset ${file} in ${assetsDir()}`);
    return `/assets/${name}`;
  }

  get(name: string): Asset | undefined {
    return this.byName.get(name);
  }

  /** Total bytes, gzipped, of everything served (the budget is 300 kB). */
  all(): Asset[] {
    return [...this.byName.values()];
  }
}
