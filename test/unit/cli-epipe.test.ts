/**
 * `credwarden policy validate | head -1` died with an EPIPE stack trace (issue 8, part 2). The real
 * entry point runs in a child process (from source through tsx, so a stale dist/ cannot hide a
 * regression) with its stdout, or its stderr, a pipe whose reading end is already closed.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '../..');
const CLI = join(ROOT, 'src/cli/main.ts');

interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Run the CLI; `closed` names the pipe whose reading end is closed before the child writes. */
function runCli(args: string[], closed: 'stdout' | 'stderr'): Promise<Exit> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, ['--import', 'tsx', CLI, ...args], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, NODE_OPTIONS: '' },
    });
    let stdout = '';
    let stderr = '';
    child[closed].destroy();
    if (closed !== 'stdout') child.stdout.on('data', (d) => (stdout += String(d)));
    if (closed !== 'stderr') child.stderr.on('data', (d) => (stderr += String(d)));
    child.on('error', fail);
    child.on('close', (code, signal) => done({ code, signal, stdout, stderr }));
  });
}

function config(text = ''): string {
  const dir = mkdtempSync(join(tmpdir(), 'cw-epipe-'));
  const f = join(dir, 'credwarden.yaml');
  writeFileSync(f, text);
  return f;
}

describe('a reader that closes early', () => {
  it('stdout closed: `policy validate` exits 0 quietly, with no EPIPE and no stack trace', async () => {
    const res = await runCli(['--config', config(), 'policy', 'validate', '--list-rules'], 'stdout');

    expect(res.stderr).not.toMatch(/EPIPE|Error|\n\s+at /);
    expect(res.stderr).toBe('');
    expect(res).toMatchObject({ code: 0, signal: null });
  });

  it('stderr closed: a bad config still exits 2, with no crash', async () => {
    const res = await runCli(['--config', config('redis: [\n'), 'policy', 'validate'], 'stderr');

    expect(res).toMatchObject({ code: 2, signal: null, stdout: '' });
  });
});
