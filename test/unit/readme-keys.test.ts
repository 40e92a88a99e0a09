/**
 * The README's table of Redis keys against the key-layout headers in the code (DESIGN rule 10:
 * each Redis key layout is commented where it is owned). A key added to a header and not to the
 * README, or left in the README after the code dropped it, fails here.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '..', '..');

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sources(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  );
}

/** Keys named in header comment lines: ` *   P:<key> …` or ` *   <prefix>:<key> …`. */
function headerKeys(): Set<string> {
  const keys = new Set<string>();
  for (const file of sources(join(ROOT, 'src'))) {
    for (const line of readFileSync(file, 'utf8').split('\n')) {
      const m = /^ \*\s+(?:P|<prefix>):(\S+)/.exec(line);
      if (m) keys.add(`P:${m[1]}`);
    }
  }
  // `P:scores:*` in the findings header points at scores.ts, which lists the two keys.
  keys.delete('P:scores:*');
  return keys;
}

function readmeKeys(): Set<string> {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const start = readme.indexOf('### Redis keys (prefix `P`)');
  const table = readme.slice(start, readme.indexOf('\n## ', start));
  const keys = new Set<string>();
  for (const line of table.split('\n')) {
    const cell = /^\| `([^`]+)` \|/.exec(line);
    if (cell) keys.add(cell[1]!);
  }
  return keys;
}

describe('README Redis keys table', () => {
  it('lists exactly the keys the code headers document', () => {
    const code = headerKeys();
    const readme = readmeKeys();
    expect(code.size).toBeGreaterThan(20);
    expect([...code].filter((k) => !readme.has(k)).sort()).toEqual([]);
    expect([...readme].filter((k) => !code.has(k)).sort()).toEqual([]);
  });
});
