/**
 * How `verify.mjs` is made (src/evidence/verify-script.ts): the verifier's three node-only parts
 * joined into one module. Both routes are run here with plain `node` in an empty directory:
 * - the installed route: the parts compiled by tsc (with the project's emit options, into a temp
 *   dir: dist/ is never touched), joined from their `.js`;
 * - the source route (tsx, vitest): the `.ts` parts through esbuild, which is what packs embed
 *   when the sources run.
 * And the join refuses what it cannot join faithfully.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyPack } from '../../src/evidence/verifier.js';
import { buildVerifierScript, joinVerifier, VERIFIER_PARTS, verifierScript } from '../../src/evidence/verify-script.js';
import { buildChain, newKey, packOf, proofOf, readAll, sliceText } from '../support/evidence-pack.js';

const ROOT = resolve(import.meta.dirname, '../..');
const SRC = join(ROOT, 'src/evidence');
let dir: string;
let pack: string;
let keyFile: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'cw-vscript-'));
  const key = newKey();
  const chain = buildChain(6);
  pack = await packOf(
    dir,
    'p',
    sliceText(chain, 2, 5),
    proofOf(chain, { fromSeq: 2, toSeq: 5, checkpointSeq: 6, key }),
    key,
  );
  keyFile = join(dir, 'pub.pem');
  writeFileSync(keyFile, key.publicPem);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Runs `script` as verify.mjs with plain node, cwd an empty directory. */
function runStandalone(script: Buffer, args: string[]) {
  const empty = mkdtempSync(join(tmpdir(), 'cw-standalone-'));
  writeFileSync(join(empty, 'verify.mjs'), script);
  const r = spawnSync(process.execPath, ['verify.mjs', ...args], {
    cwd: empty,
    encoding: 'utf8',
    env: { PATH: process.env.PATH ?? '' },
  });
  rmSync(empty, { recursive: true, force: true });
  return r;
}

function expectStandalone(script: Buffer): void {
  const imports = [...script.toString('utf8').matchAll(/^import .* from '([^']+)';$/gm)].map((m) => m[1]);
  expect(imports.length).toBeGreaterThan(0);
  expect(imports.every((s) => s!.startsWith('node:'))).toBe(true);
  expect(script.toString('utf8')).not.toMatch(/sourceMappingURL|from '\.\//);
}

describe('verify.mjs', () => {
  it('from tsc-compiled parts (the installed route) runs alone and agrees with verifyPack', async () => {
    const out = join(dir, 'tsc-out');
    const tsc = spawnSync(
      process.execPath,
      [
        join(ROOT, 'node_modules/typescript/bin/tsc'),
        ...['--target', 'ES2022', '--module', 'NodeNext', '--moduleResolution', 'NodeNext', '--strict'],
        ...['--skipLibCheck', '--sourceMap', '--types', 'node', '--rootDir', SRC, '--outDir', out],
        join(SRC, 'verifier.ts'),
      ],
      { cwd: ROOT, encoding: 'utf8' },
    );
    expect(tsc.stdout + tsc.stderr).toBe('');
    for (const p of VERIFIER_PARTS) expect(readFileSync(join(out, `${p}.js`), 'utf8')).toContain('sourceMappingURL');
    const script = await buildVerifierScript(out);
    expectStandalone(script);
    const r = runStandalone(script, [pack, '--key', keyFile, '--json']);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual(await verifyPack(pack, { publicKeyPem: readFileSync(keyFile, 'utf8') }));
  }, 60_000);

  it('from the .ts parts through esbuild (the source route) is what a pack embeds, and runs alone', async () => {
    const script = await buildVerifierScript(SRC);
    expect(script.equals(await verifierScript())).toBe(true);
    const embedded = (await readAll(pack)).find((e) => e.path === 'verify.mjs')!.data;
    expect(embedded.equals(script)).toBe(true);
    expectStandalone(script);
    const ok = runStandalone(script, [pack]);
    expect(ok.status).toBe(0);
    expect(ok.stdout).toMatch(/VERIFIED\n$/);
    expect(runStandalone(script, []).status).toBe(2);
    expect(runStandalone(script, [pack, '--bogus']).status).toBe(2);
    expect(runStandalone(script, [join(dir, 'missing.tar.gz')]).stderr).toMatch(/cannot read/);
  });

  it.each([
    ['an npm import', [{ name: 'a', code: "import { z } from 'zod';\n" }], /may import node:\* only/],
    [
      'an import of a later part',
      [
        { name: 'a', code: "import { b } from './b.js';\n" },
        { name: 'b', code: 'export const b = 1;\n' },
      ],
      /not an earlier part/,
    ],
    [
      'a renamed import between parts',
      [
        { name: 'a', code: 'export const a = 1;\n' },
        { name: 'b', code: "import { a as x } from './a.js';\n" },
      ],
      /not renamed/,
    ],
    [
      'a name the earlier part does not export',
      [
        { name: 'a', code: 'const a = 1;\n' },
        { name: 'b', code: "import { a } from './a.js';\n" },
      ],
      /only names that part exports/,
    ],
    ['a namespace import', [{ name: 'a', code: "import * as fs from 'node:fs';\n" }], /cannot join/],
    ['a dynamic import', [{ name: 'a', code: "const m = await import('node:fs');\n" }], /dynamic/],
    ['a re-export', [{ name: 'a', code: "export { x } from 'node:fs';\n" }], /re-exports/],
  ])('the join refuses %s', (_what, parts, why) => {
    expect(() => joinVerifier(parts)).toThrow(why);
  });

  it('the join merges node imports, keeps aliases and one shebang', () => {
    const out = joinVerifier([
      { name: 'a', code: "#!/usr/bin/env node\nimport { createHash } from 'node:crypto';\nexport const a = 1;\n" },
      {
        name: 'b',
        code: "import process from 'node:process';\nimport { createHash, verify as v } from 'node:crypto';\nimport { a } from './a.js';\nexport const b = a;\n//# sourceMappingURL=b.js.map\n",
      },
    ]);
    expect(out.match(/^#!/gm)).toHaveLength(1);
    expect(out).toContain("import { createHash, verify as v } from 'node:crypto';");
    expect(out).toContain("import process from 'node:process';");
    expect(out).not.toMatch(/from '\.\/a\.js'|sourceMappingURL/);
  });
});
