/**
 * `verify.mjs`, the standalone verifier every pack ships: one dependency-free ES module joined from
 * its parts (VERIFIER_PARTS, in order; each imports only `node:*` and earlier parts, by name).
 *
 * - Installed (dist/): the parts as tsc compiled them, the `*.js` beside this module.
 * - From source (tsx, vitest, the benches): the `.ts` parts, each transpiled on its own with
 *   esbuild (a devDependency, present wherever the sources run; nothing is bundled).
 *
 * The join hoists and merges the `node:*` imports, drops the imports between parts (once joined,
 * those names are the parts' own top-level declarations), keeps one shebang and drops source-map
 * comments. It refuses anything else (an npm import, a namespace, default or renamed import
 * between parts, a re-export, a dynamic import), so the result is a faithful single module or an
 * error at pack time. Tests run it with plain `node` in an empty directory, from both routes.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CwError, ErrorCodes } from '../errors.js';

export const VERIFIER_PARTS = ['tar-reader', 'verify-chain', 'verifier'] as const;

const IMPORT = /^import\s+([^;'"]*?)\s+from\s+(['"])([^'"]+)\2;?[ \t]*$/gm;

function fail(message: string): never {
  throw new CwError(ErrorCodes.INTERNAL, `the standalone verifier: ${message}`);
}

function parseClause(clause: string, where: string): { def?: string; names: string[] } {
  const m = /^(?:([\w$]+)\s*,?\s*)?(?:\{([^}]*)\})?$/.exec(clause.trim());
  if (!m || (!m[1] && m[2] === undefined)) fail(`${where}: cannot join "import ${clause}"`);
  const names = (m![2] ?? '')
    .split(',')
    .map((s) => s.trim().replace(/\s+/g, ' '))
    .filter(Boolean);
  return { ...(m![1] ? { def: m![1] } : {}), names };
}

const exportsName = (code: string, name: string): boolean =>
  new RegExp(`^export\\s+(?:async\\s+)?(?:function\\*?|const|let|var|class)\\s+${name}\\b`, 'm').test(code) ||
  new RegExp(`^export\\s*\\{[^}]*\\b${name}\\b[^}]*\\}`, 'm').test(code);

/** One ES module from the compiled parts, in dependency order. */
export function joinVerifier(parts: { name: string; code: string }[]): string {
  const node = new Map<string, { def?: string; names: Set<string> }>();
  const bodies = parts.map(({ name, code }, index) => {
    if (/^export\s[^;]*?\sfrom\s/m.test(code)) fail(`${name} re-exports from another module`);
    const body = code
      .replace(/^#!.*\n/, '')
      .replace(/^\/\/# sourceMappingURL=.*$/gm, '')
      .replace(IMPORT, (_all, clause: string, _q, from: string) => {
        const c = parseClause(clause, name);
        if (from.startsWith('./')) {
          const at = parts.findIndex((p) => p.name === from.slice(2).replace(/\.js$/, ''));
          if (at < 0 || at >= index) fail(`${name} imports ${from}, which is not an earlier part`);
          for (const n of c.names)
            if (n.includes(' ') || !exportsName(parts[at]!.code, n))
              fail(`${name} imports "${n}" from ${from}: only names that part exports, not renamed`);
          if (c.def) fail(`${name} has a default import from ${from}`);
          return '';
        }
        if (!from.startsWith('node:')) fail(`${name} imports "${from}": the verifier may import node:* only`);
        const e = node.get(from) ?? { names: new Set<string>() };
        if (c.def && e.def && c.def !== e.def) fail(`two default imports of ${from}`);
        if (c.def) e.def = c.def;
        for (const n of c.names) e.names.add(n);
        node.set(from, e);
        return '';
      });
    if (/^\s*import\b(?!\.meta)/m.test(body) || /\bimport\s*\(|\brequire\s*\(/.test(body))
      fail(`${name} has an import the join cannot take (side effect, namespace or dynamic)`);
    return `// ---- ${name} ${'-'.repeat(90 - name.length)}\n${body.trim()}\n`;
  });
  const imports = [...node].map(([from, e]) => {
    const named = e.names.size ? `{ ${[...e.names].join(', ')} }` : '';
    return `import ${[e.def, named].filter(Boolean).join(', ')} from '${from}';`;
  });
  return [
    '#!/usr/bin/env node',
    '// The credwarden evidence-pack verifier, standalone: Node.js >= 20 and nothing else.',
    '// Usage: node verify.mjs PACK.tar.gz [--key PUBLIC.pem] [--json]   (exit 0 verified, 1 failed, 2 bad usage)',
    ...imports,
    '',
    ...bodies,
  ].join('\n');
}

/** verify.mjs from the parts in `dir`: compiled `.js` when there, else the `.ts` through esbuild. */
export async function buildVerifierScript(dir: string): Promise<Buffer> {
  const files = (ext: string) => VERIFIER_PARTS.map((p) => join(dir, `${p}.${ext}`));
  const read = (paths: string[]) => Promise.all(paths.map((p) => readFile(p, 'utf8')));
  if (files('js').every((p) => existsSync(p))) {
    const code = await read(files('js'));
    return Buffer.from(joinVerifier(VERIFIER_PARTS.map((name, i) => ({ name, code: code[i]! }))));
  }
  if (!files('ts').every((p) => existsSync(p))) fail(`its parts are not in ${dir} (${VERIFIER_PARTS.join(', ')})`);
  let esbuild: typeof import('esbuild');
  try {
    esbuild = await import('esbuild');
  } catch {
    return fail(`${files('js')[0]} is not compiled and esbuild is not installed to transpile it: run npm run build`);
  }
  const sources = await read(files('ts'));
  const code = await Promise.all(
    sources.map(async (src, i) => {
      const options = { loader: 'ts', format: 'esm', target: 'node20', sourcefile: `${VERIFIER_PARTS[i]}.ts` } as const;
      return (await esbuild.transform(src, options)).code;
    }),
  );
  return Buffer.from(joinVerifier(VERIFIER_PARTS.map((name, i) => ({ name, code: code[i]! }))));
}

let cached: Promise<Buffer> | undefined;

/** verify.mjs for this installation (built once per process). */
export function verifierScript(): Promise<Buffer> {
  cached ??= buildVerifierScript(dirname(fileURLToPath(import.meta.url))).catch((err) => {
    cached = undefined;
    throw err;
  });
  return cached;
}
