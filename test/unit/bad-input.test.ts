/**
 * Bad input files (issue 8, part 2): each fails with ONE located CwError naming the file (and the
 * key, line or byte where there is one), and the CLI exits 2.
 * - a policy source (file or directory of `policies:`) that yields no policy; `.YAML` accepted;
 * - files over their size limit are refused after a stat, before they are read;
 * - "billion laughs" YAML aliases; invalid UTF-8.
 */
import { mkdirSync, mkdtempSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { run } from '../../src/cli/main.js';
import { loadConfig } from '../../src/config/load.js';
import { loadPolicies } from '../../src/policy/load.js';
import { loadRegistry } from '../../src/registry/load.js';
import { captureIo } from '../support/capture.js';

const MiB = 1024 * 1024;

const POLICY = `policies:
  - name: p1
    description: d
    resource: { kinds: [aws-access-key] }
    rules:
      - type: unused-for
        days: 30
    severity: medium
`;
const REGISTRY = `agents:
  - id: bot
    name: Bot
    version: "1"
    environment: prod
    selectors: { aws: { users: [svc-bot] } }
`;

function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'cw-bad-'));
}

/** A directory with credwarden.yaml (policies: [pol]), agents.yaml and an empty pol/. */
function workspace(): { dir: string; config: string; pol: string } {
  const dir = tempDir();
  const pol = join(dir, 'pol');
  mkdirSync(pol);
  writeFileSync(join(dir, 'agents.yaml'), REGISTRY);
  const config = join(dir, 'credwarden.yaml');
  writeFileSync(config, 'registry: agents.yaml\npolicies: [pol]\n');
  return { dir, config, pol };
}

async function rejection(p: Promise<unknown>): Promise<{ code: string; message: string }> {
  try {
    await p;
  } catch (err) {
    return err as { code: string; message: string };
  }
  throw new Error('expected a rejection');
}

async function cli(...args: string[]) {
  const io = captureIo();
  const code = await run(args, io);
  return { code, out: io.stdout.join('\n'), err: io.stderr.join('\n'), errLines: io.stderr.length };
}

describe('policy sources that yield no policy', () => {
  it('should reject an empty directory, naming it and what was looked for', async () => {
    const { pol } = workspace();

    const err = await rejection(loadPolicies([pol]));

    expect(err.code).toBe('CW_ERR_POLICY');
    expect(err.message).toBe(
      `${pol}: no policy files in this directory (looked for *.yaml or *.yml files (any case; *.test.yaml are skipped) with a top-level "policies:" list)`,
    );
  });

  it('should load *.YAML and *.Yml files (extensions are case-insensitive)', async () => {
    const { pol } = workspace();
    writeFileSync(join(pol, 'TEAM.YAML'), POLICY);
    writeFileSync(join(pol, 'other.Yml'), POLICY.replace('name: p1', 'name: p2'));

    const set = await loadPolicies([pol]);

    expect(set.policies.map((p) => p.name).sort()).toEqual(['p1', 'p2']);
    expect(set.files).toEqual([join(pol, 'TEAM.YAML'), join(pol, 'other.Yml')]);
  });

  it('should skip *.TEST.YAML like *.test.yaml, and reject a directory holding only tests', async () => {
    const { pol } = workspace();
    writeFileSync(join(pol, 'a.test.yaml'), 'tests: []\n');
    writeFileSync(join(pol, 'B.TEST.YAML'), 'tests: []\n');

    const err = await rejection(loadPolicies([pol]));

    expect(err.code).toBe('CW_ERR_POLICY');
    expect(err.message).toMatch(new RegExp(`^${pol}: no policy files in this directory`));
  });

  it('should reject a directory whose files hold no policies', async () => {
    const { pol } = workspace();
    writeFileSync(join(pol, 'empty.yaml'), '');
    writeFileSync(join(pol, 'blank.yaml'), 'policies: []\n');

    const err = await rejection(loadPolicies([pol]));

    expect(err.message).toMatch(new RegExp(`^${pol}: no policies in 2 policy files \\(looked for \\*\\.yaml`));
  });

  it('should reject an empty policy file named directly', async () => {
    const { pol } = workspace();
    const f = join(pol, 'p.yaml');
    writeFileSync(f, '# nothing yet\n');

    const err = await rejection(loadPolicies([f]));

    expect(err.code).toBe('CW_ERR_POLICY');
    expect(err.message).toBe(`${f}: holds no policies (looked for a top-level "policies:" list)`);
  });

  it('should reject one empty source among good ones', async () => {
    const { dir, pol } = workspace();
    writeFileSync(join(pol, 'p.yaml'), POLICY);
    const empty = join(dir, 'empty');
    mkdirSync(empty);

    const err = await rejection(loadPolicies([pol, empty]));

    expect(err.message).toMatch(new RegExp(`^${empty}: no policy files`));
  });

  it('should accept a source that holds only exceptions, next to one with policies', async () => {
    const { dir, pol } = workspace();
    writeFileSync(join(pol, 'p.yaml'), POLICY);
    const ex = join(dir, 'exceptions.yaml');
    writeFileSync(
      ex,
      'exceptions:\n  - id: e1\n    selector: { agents: [bot] }\n    owner: me\n    reason: why\n    expires: 2099-01-01\n',
    );

    const set = await loadPolicies([pol, ex]);

    expect(set.policies).toHaveLength(1);
    expect(set.exceptions.map((e) => e.id)).toEqual(['e1']);
  });

  it('should reject a set of sources that holds only exceptions', async () => {
    const { dir } = workspace();
    const ex = join(dir, 'exceptions.yaml');
    writeFileSync(
      ex,
      'exceptions:\n  - id: e1\n    selector: { agents: [bot] }\n    owner: me\n    reason: why\n    expires: 2099-01-01\n',
    );

    const err = await rejection(loadPolicies([ex]));

    expect(err.message).toMatch(new RegExp(`^${ex}: no policies, only exceptions`));
  });

  it('`policy validate` should exit 2 with one line for an empty policies directory (not "OK: 0 policies")', async () => {
    const { config, pol } = workspace();

    const res = await cli('--config', config, 'policy', 'validate');

    expect(res.code).toBe(2);
    expect(res.out).toBe('');
    expect(res.errLines).toBe(1);
    expect(res.err).toMatch(new RegExp(`^credwarden: CW_ERR_POLICY: ${pol}: no policy files in this directory`));
  });

  it('`policy validate` should exit 2 for a directory holding only *.test.yaml files', async () => {
    const { config, pol } = workspace();
    writeFileSync(join(pol, 'x.test.yaml'), 'tests: []\n');

    const res = await cli('--config', config, 'policy', 'validate');

    expect(res.code).toBe(2);
    expect(res.err).toContain(`${pol}: no policy files`);
  });

  it('`policy validate` should count the policies of a *.YAML file', async () => {
    const { config, pol } = workspace();
    writeFileSync(join(pol, 'TEAM.YAML'), POLICY);

    const res = await cli('--config', config, 'policy', 'validate');

    expect(res.code).toBe(0);
    expect(res.out).toMatch(/^OK: 1 policies and 0 exceptions in 1 files/);
  });
});

describe('size limits', () => {
  /** A file of `bytes` bytes that starts with `head` (the rest is a YAML comment). */
  function fileOf(path: string, head: string, bytes: number): string {
    const pad = bytes - Buffer.byteLength(head) - 2;
    writeFileSync(path, `${head}#${'x'.repeat(pad)}\n`);
    return path;
  }

  it('should refuse a config file over 1 MiB, naming the file, its size and the limit', async () => {
    const { dir } = workspace();
    const f = fileOf(join(dir, 'big.yaml'), 'registry: agents.yaml\n', MiB + 1);

    const err = await rejection(loadConfig(f, {}));

    expect(err.code).toBe('CW_ERR_CONFIG');
    expect(err.message).toBe(
      `${f}: is 1048577 bytes (1.0 MiB), over the limit of 1048576 bytes (1 MiB) for a config file`,
    );
  });

  it('should accept a config file of exactly 1 MiB', async () => {
    const { dir } = workspace();
    const f = fileOf(join(dir, 'edge.yaml'), 'registry: agents.yaml\n', MiB);

    await expect(loadConfig(f, {})).resolves.toMatchObject({ registry: join(dir, 'agents.yaml') });
  });

  it('should refuse a huge (sparse, 3 GiB) config from its size alone, without reading it', async () => {
    const { dir } = workspace();
    const f = join(dir, 'huge.yaml');
    writeFileSync(f, 'registry: agents.yaml\n');
    truncateSync(f, 3 * 1024 * MiB);

    const err = await rejection(loadConfig(f, {}));

    expect(err.code).toBe('CW_ERR_CONFIG');
    expect(err.message).toContain(`${f}: is 3221225472 bytes (3072 MiB), over the limit of 1048576 bytes (1 MiB)`);
  });

  it('should refuse a registry over 16 MiB', async () => {
    const { dir } = workspace();
    const f = fileOf(join(dir, 'agents.yaml'), REGISTRY, 16 * MiB + 1);

    const err = await rejection(loadRegistry(f));

    expect(err.code).toBe('CW_ERR_REGISTRY');
    expect(err.message).toBe(
      `${f}: is 16777217 bytes (16.0 MiB), over the limit of 16777216 bytes (16 MiB) for a registry file`,
    );
  });

  it('should refuse a policy file over 1 MiB', async () => {
    const { pol } = workspace();
    const f = fileOf(join(pol, 'p.yaml'), POLICY, MiB + 100);

    const err = await rejection(loadPolicies([pol]));

    expect(err.code).toBe('CW_ERR_POLICY');
    expect(err.message).toMatch(new RegExp(`^${f}: is 1048676 bytes .*over the limit of 1048576 bytes .*policy file`));
  });

  it('the CLI should exit 2 with one line for an oversized config', async () => {
    const { dir } = workspace();
    const f = fileOf(join(dir, 'big.yaml'), 'registry: agents.yaml\n', 2 * MiB);

    const res = await cli('--config', f, 'policy', 'validate');

    expect(res.code).toBe(2);
    expect(res.errLines).toBe(1);
    expect(res.err).toMatch(/^credwarden: CW_ERR_CONFIG: .*big\.yaml: is 2097152 bytes \(2 MiB\), over the limit/);
  });
});

/** Nine levels of nine aliases: 9^9 "lol"s if expanded. */
function billionLaughs(key: string): string {
  const lines = [`${key}:`, '  a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]'];
  for (let i = 1; i < 9; i++)
    lines.push(
      `  a${i}: &a${i} [${Array(9)
        .fill(`*a${i - 1}`)
        .join(',')}]`,
    );
  return `${lines.join('\n')}\n`;
}

describe('YAML alias bombs ("billion laughs")', () => {
  const ALIASES = /: YAML aliases expand too much \(an anchor is used more than 100 times/;

  it('in the config: CW_ERR_CONFIG naming the file, not CW_ERR_INTERNAL', async () => {
    const { dir } = workspace();
    const f = join(dir, 'lol.yaml');
    writeFileSync(f, billionLaughs('x'));

    const err = await rejection(loadConfig(f, {}));

    expect(err.code).toBe('CW_ERR_CONFIG');
    expect(err.message).toMatch(new RegExp(`^${f}${ALIASES.source}`));
  });

  it('in the registry', async () => {
    const { dir } = workspace();
    const f = join(dir, 'agents.yaml');
    writeFileSync(f, billionLaughs('agents'));

    const err = await rejection(loadRegistry(f));

    expect(err.code).toBe('CW_ERR_REGISTRY');
    expect(err.message).toMatch(new RegExp(`^${f}${ALIASES.source}`));
  });

  it('in a policy file, and the CLI exits 2', async () => {
    const { config, pol } = workspace();
    const f = join(pol, 'p.yaml');
    writeFileSync(f, billionLaughs('policies'));

    const err = await rejection(loadPolicies([pol]));
    const res = await cli('--config', config, 'policy', 'validate');

    expect(err.code).toBe('CW_ERR_POLICY');
    expect(err.message).toMatch(new RegExp(`^${f}${ALIASES.source}`));
    expect(res.code).toBe(2);
    expect(res.err).toMatch(new RegExp(`^credwarden: CW_ERR_POLICY: ${f}${ALIASES.source}`));
  });

  it('should still accept a few ordinary aliases', async () => {
    const { dir } = workspace();
    const f = join(dir, 'ok.yaml');
    writeFileSync(f, 'registry: agents.yaml\nworker: { discoverConcurrency: &n 8 }\naws: { maxConcurrency: *n }\n');

    await expect(loadConfig(f, {})).resolves.toMatchObject({ aws: { maxConcurrency: 8 } });
  });
});

describe('invalid UTF-8', () => {
  /** `text` with one raw byte put where `@` is. */
  function withByte(path: string, text: string, byte: number): { path: string; offset: number } {
    const offset = Buffer.byteLength(text.slice(0, text.indexOf('@')));
    const buf = Buffer.from(text.replace('@', '\u0000'));
    buf[offset] = byte;
    writeFileSync(path, buf);
    return { path, offset };
  }

  it('in the config: names the file, the line and the byte offset', async () => {
    const { dir } = workspace();
    const { path, offset } = withByte(join(dir, 'c.yaml'), 'registry: agents.yaml\nredis:\n  prefix: "caf@"\n', 0xe9);

    const err = await rejection(loadConfig(path, {}));

    expect(err.code).toBe('CW_ERR_CONFIG');
    expect(err.message).toBe(`${path}:3: invalid UTF-8 (byte 0xe9 at offset ${offset}); save the file as UTF-8`);
  });

  it('in the registry (which used to turn it into U+FFFD silently)', async () => {
    const { dir } = workspace();
    const { path, offset } = withByte(join(dir, 'agents.yaml'), REGISTRY.replace('name: Bot', 'name: B@t'), 0xff);

    const err = await rejection(loadRegistry(path));

    expect(err.code).toBe('CW_ERR_REGISTRY');
    expect(err.message).toBe(`${path}:3: invalid UTF-8 (byte 0xff at offset ${offset}); save the file as UTF-8`);
  });

  it('in a policy file, a truncated multi-byte sequence at the end', async () => {
    const { pol } = workspace();
    const f = join(pol, 'p.yaml');
    const text = POLICY.replace('description: d', 'description: "d\u00e9"');
    writeFileSync(f, Buffer.concat([Buffer.from(text), Buffer.from([0xe2, 0x82])]));

    const err = await rejection(loadPolicies([pol]));

    expect(err.code).toBe('CW_ERR_POLICY');
    expect(err.message).toBe(
      `${f}:9: invalid UTF-8 (byte 0xe2 at offset ${Buffer.byteLength(text)}); save the file as UTF-8`,
    );
  });

  it('should accept valid multi-byte text and a BOM', async () => {
    const { dir } = workspace();
    const f = join(dir, 'agents.yaml');
    writeFileSync(f, `\ufeff${REGISTRY.replace('name: Bot', 'name: "Böt 🤖 日本"')}`);

    const reg = await loadRegistry(f);

    expect(reg.agents[0]?.name).toBe('Böt 🤖 日本');
  });
});
