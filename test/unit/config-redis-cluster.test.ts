// biome-ignore-all lint/suspicious/noTemplateCurlyInString: `${env:NAME}` is the config syntax under test, not a template.
/**
 * `redis.cluster` and `redis.nodes` (a Redis Cluster, README "Scale-out"): a cluster config loads;
 * every `redis.nodes` entry follows the rules of `redis.url` (a redis:// URL, a password only as an
 * `${env:NAME}` reference, never echoed); a bad entry is one located CW_ERR_CONFIG error naming
 * `redis.nodes[i]`, and the CLI exits 2 with that one line. The key prefixes follow the mode.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { run } from '../../src/cli/main.js';
import { loadConfigText } from '../../src/config/load.js';
import { CwError, ErrorCodes } from '../../src/errors.js';
import { hashTagOf, keyPrefix, queuePrefix } from '../../src/queue/prefix.js';
import { captureIo } from '../support/capture.js';

const FILE = join('/srv/credwarden', 'credwarden.yaml');
const yaml = (...lines: string[]) => `${lines.join('\n')}\n`;

function configError(text: string, env: NodeJS.ProcessEnv = {}): CwError {
  try {
    loadConfigText(FILE, text, env);
  } catch (err) {
    expect(err).toBeInstanceOf(CwError);
    return err as CwError;
  }
  throw new Error('expected a config error');
}

describe('redis.cluster', () => {
  it('loads a cluster config: the url is a seed, nodes more seeds, the prefix stays the bare name', () => {
    const config = loadConfigText(
      FILE,
      yaml(
        'redis:',
        '  url: redis://cache-0001.example.internal:6379',
        '  prefix: cw',
        '  cluster: true',
        '  nodes:',
        '    - redis://cache-0002.example.internal:6379',
        '    - rediss://:${env:REDIS_PASSWORD}@cache-0003.example.internal:6380',
      ),
      { REDIS_PASSWORD: 'p@ss/w:rd' },
    );
    expect(config.redis).toEqual({
      url: 'redis://cache-0001.example.internal:6379',
      prefix: 'cw',
      cluster: true,
      nodes: [
        'redis://cache-0002.example.internal:6379',
        `rediss://:${encodeURIComponent('p@ss/w:rd')}@cache-0003.example.internal:6380`,
      ],
    });
    // Not a key: the audit file keeps the bare name.
    expect(config.audit.file).toBe(join('/srv/credwarden', '.cw', 'cw.audit.jsonl'));
  });

  it('is off by default, and cluster: true needs no nodes', () => {
    expect(loadConfigText(FILE, '', {}).redis).toEqual({
      url: 'redis://127.0.0.1:6379',
      prefix: 'credwarden',
      cluster: false,
    });
    expect(loadConfigText(FILE, yaml('redis:', '  cluster: true'), {}).redis.cluster).toBe(true);
  });

  it.each([
    {
      name: 'a node that is not a redis URL',
      lines: ['redis:', '  cluster: true', '  nodes:', '    - redis://a:6379', '    - cache-2:6379'],
      line: 5,
      path: 'redis\\.nodes\\[1\\]',
      message: /must be a redis:\/\/ or rediss:\/\/ URL/,
    },
    {
      name: 'a literal password in a node',
      lines: ['redis:', '  cluster: true', '  nodes:', '    - redis://:hunter2@cache-2:6379'],
      line: 4,
      path: 'redis\\.nodes\\[0\\]',
      message: /the password must be an \$\{env:NAME\} reference/,
    },
    {
      name: 'a password in a node’s query',
      lines: ['redis:', '  cluster: true', '  nodes: ["redis://cache-2:6379/0?password=hunter2"]'],
      line: 3,
      path: 'redis\\.nodes\\[0\\]',
      message: /put the password in the user-info/,
    },
    {
      name: 'nodes without cluster: true',
      lines: ['redis:', '  url: redis://a:6379', '  nodes: [redis://b:6379]'],
      line: 3,
      path: 'redis\\.nodes',
      message: /needs cluster: true/,
    },
    {
      name: 'a cluster flag that is not a boolean',
      lines: ['redis:', '  cluster: "yes"'],
      line: 2,
      path: 'redis\\.cluster',
      message: /expected boolean/,
    },
  ])('refuses $name, naming the key and never the password', ({ lines, line, path, message }) => {
    const err = configError(yaml(...lines));
    expect(err.code).toBe(ErrorCodes.CONFIG);
    expect(err.message).toMatch(new RegExp(`^${FILE}:${line} ${path}: `));
    expect(err.message).toMatch(message);
    expect(err.message).not.toContain('hunter2');
  });

  it('the CLI exits 2 with one line naming redis.nodes[0] (before any connection)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cw-cluster-config-'));
    const file = join(dir, 'credwarden.yaml');
    writeFileSync(file, yaml('redis:', '  cluster: true', '  nodes:', '    - http://cache-2:6379'));
    const io = captureIo();
    const code = await run(['--config', file, 'policy', 'validate'], io);
    expect(code).toBe(2);
    expect(io.stderr).toEqual([
      `credwarden: CW_ERR_CONFIG: ${file}:4 redis.nodes[0]: must be a redis:// or rediss:// URL`,
    ]);
  });
});

describe('key prefixes', () => {
  it('on one Redis are exactly what they always were', () => {
    expect(keyPrefix({ prefix: 'credwarden' })).toBe('credwarden');
    expect(keyPrefix({ prefix: 'credwarden', cluster: false })).toBe('credwarden');
    expect(queuePrefix({ prefix: 'credwarden' }, 'scan')).toBe('credwarden:bull');
    expect(queuePrefix({ prefix: 'credwarden' }, 'alert-pd')).toBe('credwarden:bull');
  });

  it('on a cluster: one tag for credwarden’s own keys, one per queue for BullMQ’s', () => {
    const c = { prefix: 'credwarden', cluster: true };
    expect(keyPrefix(c)).toBe('{credwarden}');
    expect(queuePrefix(c, 'scan')).toBe('{credwarden:scan}:bull');
    expect(queuePrefix(c, 'alert-pd')).toBe('{credwarden:alert-pd}:bull');
    expect(hashTagOf(`${keyPrefix(c)}:audit:events`)).toBe('credwarden');
    expect(hashTagOf(`${keyPrefix(c)}:act:plan-1:approvals`)).toBe('credwarden');
    expect(hashTagOf(`${queuePrefix(c, 'scan')}:scan:wait`)).toBe('credwarden:scan');
    expect(hashTagOf('credwarden:audit:events')).toBeNull();
    expect(hashTagOf('{}x')).toBeNull();
  });
});
