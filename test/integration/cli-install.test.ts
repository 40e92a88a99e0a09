/**
 * The installed CLI (issue 9 §3). `npm install -g`, `npm link` and `npx credwarden` start the bin
 * through a symlink, where the old entry check (import.meta.url against argv[1] as typed) was false:
 * the CLI printed nothing and exited 0. Here:
 * - `isEntryPoint` on its own (symlinks, a path without `.js`, nothing to compare);
 * - what `npm pack` puts in the tarball, from the repo itself (no build, no scripts);
 * - a copy of the package packed for real: `prepack` builds a clean dist/, and the bin it built is
 *   run through an npm-link style symlink chain;
 * - that tarball installed with `npm install --global --prefix <tmp>` (never the machine's global
 *   prefix; dependencies from the npm cache `npm ci` filled, `--prefer-offline`), whose `credwarden`
 *   finds its default policy packs inside the installed package.
 * The copy is built in a temp directory so that the repo's dist/, which other tests run, is never
 * rewritten under them.
 */
import { spawn } from 'node:child_process';
import {
  cpSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  realpathSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve, sep } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isEntryPoint } from '../../src/cli/main.js';

const ROOT = resolve(import.meta.dirname, '../..');
const PACKS = ['agent-baseline.yaml', 'cis-aws.yaml', 'owasp-nhi.yaml'];

interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** The environment without what an enclosing `npm run`/`npx` sets (its prefix, its package, its lifecycle). */
function cleanEnv(): NodeJS.ProcessEnv {
  const keep = new Set(['npm_config_cache', 'npm_config_registry', 'npm_config_userconfig']);
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!/^npm_/i.test(k) || keep.has(k.toLowerCase())) env[k] = v;
  delete env.CREDWARDEN_CONFIG;
  return { ...env, NODE_OPTIONS: '', npm_config_update_notifier: 'false', npm_config_fund: 'false' };
}

function exec(cmd: string, args: string[], cwd: string, timeoutMs = 30_000): Promise<Exit> {
  return new Promise((done, fail) => {
    const child = spawn(cmd, args, { cwd, env: cleanEnv(), stdio: ['ignore', 'pipe', 'pipe'], timeout: timeoutMs });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += String(d)));
    child.stderr.on('data', (d) => (stderr += String(d)));
    child.on('error', fail);
    child.on('close', (code, signal) => done({ code, signal, stdout, stderr }));
  });
}

const node = (script: string, args: string[], cwd: string) => exec(process.execPath, [script, ...args], cwd);

/** `npm pack --json` output: one entry per package. */
interface PackResult {
  filename: string;
  files: { path: string; mode: number }[];
}

function packResult(res: Exit): PackResult {
  if (res.code !== 0) throw new Error(`npm pack exited ${res.code}: ${res.stderr}`);
  // npm writes lifecycle output (prepack's) on stdout too, before the JSON.
  const json = res.stdout.slice(res.stdout.search(/^\[/m));
  return (JSON.parse(json) as PackResult[])[0]!;
}

let tmp: string;
/** A copy of the package (sources, config, packs; node_modules linked), packed for real. */
let pkg: string;
let tarball: PackResult;
let tarballPath: string;
/** A minimal config: no `policies:` key, so the default packs apply. */
let config: string;

beforeAll(async () => {
  tmp = realpathSync(mkdtempSync(join(tmpdir(), 'cw-install-')));
  pkg = join(tmp, 'pkg');
  mkdirSync(pkg);
  for (const f of ['package.json', 'README.md', 'tsconfig.json', 'src', 'jobs', 'policies'])
    cpSync(join(ROOT, f), join(pkg, f), { recursive: true });
  symlinkSync(join(ROOT, 'node_modules'), join(pkg, 'node_modules'), 'dir');
  // A module left over from an older build: prepack must not ship it.
  mkdirSync(join(pkg, 'dist/src'), { recursive: true });
  writeFileSync(join(pkg, 'dist/src/stale.js'), 'export {};\n');
  config = join(tmp, 'credwarden.yaml');
  writeFileSync(config, '# nothing set: the default policy packs apply\nlog:\n  level: warn\n');

  const started = Date.now();
  tarball = packResult(await exec('npm', ['pack', '--json', '--pack-destination', tmp], pkg, 180_000));
  tarballPath = join(tmp, tarball.filename);
  console.log(`npm pack (prepack: clean tsc build) took ${((Date.now() - started) / 1000).toFixed(1)} s`);
}, 200_000);

afterAll(() => {
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

describe('isEntryPoint', () => {
  it('is true for the module itself, through symlinks, and for its path without .js', () => {
    const dir = realpathSync(mkdtempSync(join(tmpdir(), 'cw-entry-')));
    try {
      const main = join(dir, 'real', 'main.js');
      mkdirSync(join(dir, 'real'));
      writeFileSync(main, '');
      const url = pathToFileURL(main).href;
      symlinkSync(main, join(dir, 'credwarden'));
      symlinkSync('real', join(dir, 'linked-dir'), 'dir');
      symlinkSync('credwarden', join(dir, 'credwarden-again'));

      expect(isEntryPoint(main, url)).toBe(true);
      expect(isEntryPoint(join(dir, 'credwarden'), url)).toBe(true);
      expect(isEntryPoint(join(dir, 'credwarden-again'), url)).toBe(true);
      expect(isEntryPoint(join(dir, 'linked-dir', 'main.js'), url)).toBe(true);
      expect(isEntryPoint(join(dir, 'real', 'main'), url)).toBe(true);
      expect(isEntryPoint(join(dir, 'linked-dir', 'main'), url)).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('is false for another script, a missing one, or no argv[1] (imported by a test runner, node -e)', () => {
    const here = pathToFileURL(join(ROOT, 'src/cli/main.ts')).href;
    expect(isEntryPoint(undefined, here)).toBe(false);
    expect(isEntryPoint('', here)).toBe(false);
    expect(isEntryPoint(join(ROOT, 'package.json'), here)).toBe(false);
    expect(isEntryPoint(join(ROOT, 'no-such-file.js'), here)).toBe(false);
    expect(isEntryPoint(join(ROOT, 'src/cli/main.ts'), pathToFileURL(join(ROOT, 'no-such.ts')).href)).toBe(false);
  });
});

describe('npm pack from the repo', () => {
  it('takes the compiled CLI, the policy packs, package.json and README only (no .cw, .venv, node_modules, tests, sources, maps)', async () => {
    const res = packResult(await exec('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], ROOT));
    const paths = res.files.map((f) => f.path);

    // The dashboard's stylesheet and script ship as they are (src/web/assets: no bundler).
    const allowed =
      /^(package\.json|README\.md|dist\/(src|jobs)\/.+\.js|policies\/.+\.yaml|src\/web\/assets\/[a-z0-9-]+\.(css|js))$/;
    expect(paths.filter((p) => !allowed.test(p))).toEqual([]);
    for (const p of PACKS) expect(paths).toContain(`policies/${p}`);
    for (const p of PACKS) expect(paths).toContain(`policies/tests/${p.replace(/\.yaml$/, '.test.yaml')}`);
  });
});

describe('the packed tarball (prepack builds)', () => {
  it('holds a clean build of the bin and jobs, and the default packs with their tests', () => {
    const paths = tarball.files.map((f) => f.path);

    expect(paths).toContain('dist/src/cli/main.js');
    expect(paths).toContain('dist/src/policy/packs.js');
    expect(paths).toContain('dist/jobs/discover.processor.js');
    for (const p of PACKS) expect(paths).toContain(`policies/${p}`);
    for (const p of PACKS) expect(paths).toContain(`policies/tests/${p.replace(/\.yaml$/, '.test.yaml')}`);
    expect(paths).not.toContain('dist/src/stale.js');
    expect(
      paths.filter(
        (p) =>
          /\.(ts|map)$/.test(p) ||
          (/^(src|test|jobs|node_modules|\.cw|\.venv)\//.test(p) && !p.startsWith('src/web/assets/')),
      ),
    ).toEqual([]);
    expect(paths).toEqual(expect.arrayContaining(['src/web/assets/app.css', 'src/web/assets/app.js']));
    // Every import of the build resolves inside the package or its declared dependencies.
    const manifest = JSON.parse(readFileSync(join(pkg, 'package.json'), 'utf8')) as {
      dependencies: Record<string, string>;
    };
    // One exception, and only where it is: verify-script.ts transpiles the verifier's .ts parts with
    // esbuild (a devDependency) when it runs from the sources; the build ships the compiled parts,
    // so the installed package never takes that branch (and says to build if it ever had to).
    const SOURCE_ONLY: Record<string, string> = { esbuild: 'dist/src/evidence/verify-script.js' };
    const bare = new Set<string>();
    const sourceOnlyIn: string[] = [];
    for (const p of paths.filter((f) => f.endsWith('.js'))) {
      const text = readFileSync(join(pkg, p), 'utf8');
      for (const m of text.matchAll(/(?:from\s+|import\s*\(\s*|require(?:\.resolve)?\(\s*)['"]([^'"]+)['"]/g)) {
        const spec = m[1]!;
        if (spec.startsWith('.') || spec.startsWith('node:') || spec.includes('${')) continue; // ${…}: code that writes code
        const name = spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]!;
        if (SOURCE_ONLY[name]) sourceOnlyIn.push(`${name} ${p}`);
        else bare.add(name);
      }
    }
    expect(bare.size).toBeGreaterThan(3);
    expect([...bare].filter((name) => !(name in manifest.dependencies))).toEqual([]);
    expect(sourceOnlyIn).toEqual(Object.entries(SOURCE_ONLY).map(([name, file]) => `${name} ${file}`));
    expect(existsSync(join(pkg, 'dist/src/evidence/verifier.js'))).toBe(true); // the compiled parts it takes instead
  });

  describe('its bin, started through symlinks as `npm link` does', () => {
    // <tmp>/link/lib/node_modules/credwarden -> the package; <tmp>/link/bin/credwarden -> ../lib/.../main.js
    let bin: string;
    beforeAll(() => {
      const prefix = join(tmp, 'link');
      mkdirSync(join(prefix, 'lib', 'node_modules'), { recursive: true });
      mkdirSync(join(prefix, 'bin'));
      symlinkSync(pkg, join(prefix, 'lib', 'node_modules', 'credwarden'), 'dir');
      bin = join(prefix, 'bin', 'credwarden');
      symlinkSync('../lib/node_modules/credwarden/dist/src/cli/main.js', bin);
    });

    it('--help prints the usage, exit 0', async () => {
      const res = await node(bin, ['--help'], tmp);

      expect(res.stdout).toMatch(/^Usage: credwarden \[options\] \[command\]/);
      expect(res.stdout).toContain('policy');
      expect(res).toMatchObject({ code: 0, signal: null, stderr: '' });
    });

    it('an unknown command or option is a usage error: message and usage on stderr, exit 2', async () => {
      const unknown = await node(bin, ['no-such-command'], tmp);
      expect(unknown.stderr).toContain("error: unknown command 'no-such-command'");
      expect(unknown.stderr).toContain('Usage: credwarden');
      expect(unknown).toMatchObject({ code: 2, signal: null, stdout: '' });

      const option = await node(bin, ['--no-such-option'], tmp);
      expect(option.stderr).toContain("error: unknown option '--no-such-option'");
      expect(option).toMatchObject({ code: 2, signal: null, stdout: '' });
    });

    it('--version prints the package version, through the symlink too', async () => {
      const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
      const version = await node(bin, ['--version'], tmp);
      expect(version).toMatchObject({ code: 0, signal: null, stdout: `${pkg.version}\n`, stderr: '' });
    });

    it('runs commands: `policy validate` with a config that names no policies finds the default packs', async () => {
      const res = await node(bin, ['--config', config, 'policy', 'validate'], tmp);

      expect(res.stdout).toMatch(/^OK: \d+ policies and \d+ exceptions in 3 files\n/);
      expect(res).toMatchObject({ code: 0, signal: null, stderr: '' });
    });

    it('the path without .js (`node dist/src/cli/main`) and the plain path run too', async () => {
      for (const script of [join(pkg, 'dist/src/cli/main'), join(pkg, 'dist/src/cli/main.js')]) {
        const res = await node(script, ['--help'], tmp);
        expect(res.stdout).toMatch(/^Usage: credwarden /);
        expect(res.code).toBe(0);
      }
    });
  });
});

describe('npm install --global --prefix <tmp> of the tarball', () => {
  let prefix: string;
  let installed: string;
  let bin: string;
  beforeAll(async () => {
    prefix = join(tmp, 'prefix');
    const started = Date.now();
    const res = await exec(
      'npm',
      [
        'install',
        '--global',
        '--prefix',
        prefix,
        '--prefer-offline',
        '--no-audit',
        '--no-fund',
        '--loglevel=error',
        tarballPath,
      ],
      tmp,
      150_000,
    );
    console.log(`npm install -g of the tarball took ${((Date.now() - started) / 1000).toFixed(1)} s`);
    if (res.code !== 0) throw new Error(`npm install exited ${res.code}: ${res.stderr}`);
    installed = join(prefix, 'lib', 'node_modules', 'credwarden');
    bin = join(prefix, 'bin', 'credwarden');
  }, 180_000);

  it('installs the package (no sources, no tests) with its runtime dependencies, and links an executable bin', () => {
    expect(lstatSync(installed).isSymbolicLink()).toBe(false);
    expect(lstatSync(bin).isSymbolicLink()).toBe(true);
    expect(realpathSync(bin)).toBe(join(installed, 'dist', 'src', 'cli', 'main.js'));
    expect(statSync(bin).mode & 0o111).not.toBe(0);
    for (const dir of ['test', 'jobs', '.cw', '.venv']) expect(existsSync(join(installed, dir))).toBe(false);
    // Of src/, only the dashboard's stylesheet and script (no TypeScript source).
    const shipped = readdirSync(join(installed, 'src'), { recursive: true, encoding: 'utf8' }).filter((p) =>
      statSync(join(installed, 'src', p)).isFile(),
    );
    expect(shipped.length).toBeGreaterThan(0);
    expect(shipped.filter((p) => !/^web\/assets\/[a-z0-9-]+\.(css|js)$/.test(p.split(sep).join('/')))).toEqual([]);
    const manifest = JSON.parse(readFileSync(join(installed, 'package.json'), 'utf8')) as {
      dependencies: Record<string, string>;
    };
    for (const dep of Object.keys(manifest.dependencies))
      expect(existsSync(join(installed, 'node_modules', dep, 'package.json')), dep).toBe(true);
  });

  it('`credwarden --help` (the bin itself, through its shebang) prints the usage, exit 0', async () => {
    const res = await exec(bin, ['--help'], tmp);

    expect(res.stdout).toMatch(/^Usage: credwarden \[options\] \[command\]/);
    expect(res).toMatchObject({ code: 0, signal: null, stderr: '' });
    const bad = await exec(bin, ['no-such-command'], tmp);
    expect(bad.stderr).toContain("unknown command 'no-such-command'");
    expect(bad.code).toBe(2);
  });

  it('`credwarden policy validate` with a config that names no policies uses the packs inside the installed package', async () => {
    const text = await exec(bin, ['--config', config, 'policy', 'validate'], tmp);
    expect(text.stdout).toMatch(/^OK: \d+ policies and 0 exceptions in 3 files\n/);
    expect(text).toMatchObject({ code: 0, signal: null, stderr: '' });

    const json = await exec(bin, ['--config', config, '--json', 'policy', 'validate'], tmp);
    expect(json.code).toBe(0);
    const files = (JSON.parse(json.stdout) as { files: string[] }).files;
    expect(files.map((f) => relative(installed, realpathSync(f)).split(sep).join('/')).sort()).toEqual(
      PACKS.map((p) => `policies/${p}`),
    );
  });

  it('`credwarden policy test` runs the packs’ own test cases from the installed package', async () => {
    const res = await exec(bin, ['--config', config, 'policy', 'test'], tmp);

    expect(res.stdout).toMatch(/\n[1-9]\d* passed, 0 failed\n$/);
    expect(res).toMatchObject({ code: 0, signal: null, stderr: '' });
  });

  it('the dashboard finds its stylesheet and script inside the installed package', async () => {
    const mod = pathToFileURL(join(installed, 'dist/src/web/assets.js')).href;
    const script = `const { Assets, assetsDir } = await import(${JSON.stringify(mod)}); const a = new Assets(); console.log(JSON.stringify({ dir: assetsDir(), css: a.url('app.css'), js: a.url('app.js') }));`;
    const res = await exec(process.execPath, ['--input-type=module', '-e', script], tmp);
    expect(res).toMatchObject({ code: 0, stderr: '' });
    const out = JSON.parse(res.stdout) as { dir: string; css: string; js: string };
    expect(realpathSync(out.dir)).toBe(realpathSync(join(installed, 'src/web/assets')));
    expect(out.css).toMatch(/^\/assets\/app\.[0-9a-f]{10}\.css$/);
    expect(out.js).toMatch(/^\/assets\/app\.[0-9a-f]{10}\.js$/);
  });
});
