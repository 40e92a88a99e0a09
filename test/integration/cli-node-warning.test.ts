/**
 * The Node support notice is said once, in one line, in credwarden's words (issue 9 §2.4). On Node 20
 * every command that touched AWS printed the SDK's 8-line NodeVersionSupportWarning (and Node's
 * "--trace-warnings" hint) to stderr. The real CLI runs in a child process on this machine's Node
 * (from source through tsx, as cli-epipe does), with the SDK's opt-out variable unset, against an
 * AWS endpoint that refuses connections: the SDK builds its clients, the scan fails fast.
 */
import { spawn } from 'node:child_process';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { writeTestFiles } from '../support/app.js';
import { useRedis } from '../support/redis.js';

const ROOT = resolve(import.meta.dirname, '../..');
const CLI = join(ROOT, 'src/cli/main.ts');
const r = useRedis('nodewarn');
const MAJOR = Number(process.versions.node.split('.')[0]);
/** The SDK's own opt-out (read by @aws-sdk/core when it builds a client); vitest.config.ts sets it for the suite. */
const SDK_WARNING_ENV = 'AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED';

function runCli(args: string[]): Promise<{ code: number | null; stderr: string }> {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    NODE_OPTIONS: '',
    AWS_ACCESS_KEY_ID: 'testing',
    AWS_SECRET_ACCESS_KEY: 'testing',
    AWS_REGION: 'us-east-1',
  };
  delete env[SDK_WARNING_ENV];
  delete env.AWS_PROFILE;
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, ['--import', 'tsx', CLI, ...args], {
      cwd: ROOT,
      stdio: ['ignore', 'ignore', 'pipe'],
      env,
    });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += String(d)));
    child.on('error', fail);
    child.on('close', (code) => done({ code, stderr }));
  });
}

describe('the Node support notice', () => {
  it(`says it at most once, in one line (this machine: Node ${process.versions.node})`, async () => {
    const files = writeTestFiles(
      {
        redis: { prefix: r.prefix },
        aws: { endpoint: 'http://127.0.0.1:1', maxAttempts: 1, accounts: [{ id: '111111111111', name: 'prod' }] },
      },
      { agents: [] },
    );
    const res = await runCli(['--config', files.configPath, 'inventory']);
    expect(res.code).toBe(2); // the endpoint refuses: unreachable, as the README says
    const lines = res.stderr.split('\n');
    const about = lines.filter((l) => /node ?(>=|version|v?\d{2}\b)|end-of-life|NodeVersionSupportWarning/i.test(l));
    expect(res.stderr).not.toContain('NodeVersionSupportWarning');
    expect(res.stderr).not.toContain('--trace-warnings');
    if (MAJOR < 22) {
      expect(about).toHaveLength(1);
      const notice = JSON.parse(about[0]!) as { level: number; msg: string; node: string };
      expect(notice).toMatchObject({ level: 40, node: process.version });
      expect(notice.msg).toBe(
        `Node ${MAJOR} is past end-of-life and AWS SDK releases from January 2027 need Node 22: run credwarden on Node 22 or 24`,
      );
    } else {
      expect(about).toEqual([]);
    }
  });
});
