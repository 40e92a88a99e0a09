/** Defects found in review, each pinned by the reproduction that exposed it. */
import { describe, expect, it } from 'vitest';
import { loadConfigText } from '../../src/config/load.js';
import { ConfigSchema } from '../../src/config/schema.js';
import { loadRegistryText } from '../../src/registry/load.js';
import { parseCredentialReport } from '../../src/sources/aws/credential-report.js';
import { mapLimit, Semaphore, sleep } from '../../src/util/concurrency.js';
import { parseCsv } from '../../src/util/csv.js';

describe('review regressions', () => {
  it('should locate a duplicate YAML key on its own line', () => {
    expect(() => loadConfigText('c.yaml', 'redis:\n  url: redis://a:1\n  url: redis://b:2\n', {})).toThrow(
      /^c\.yaml:3: YAML syntax error/,
    );
  });

  it.each(['', '*', '* * * *', '0 12 * *', '* * * * * * *'])('should reject the cron expression %j', (expr) => {
    expect(ConfigSchema.safeParse({ schedules: { discover: expr } }).success).toBe(false);
  });

  it.each(['*/15 * * * *', '0 */15 * * * *'])('should accept the cron expression %j', (expr) => {
    expect(ConfigSchema.safeParse({ schedules: { discover: expr } }).success).toBe(true);
  });

  it('should read quoted credential-report fields that contain commas', () => {
    const h = 'user,arn,user_creation_time,password_enabled';
    const report = parseCredentialReport(
      `${h}\n"svc,bot","arn:aws:iam::1:user/svc,bot",2025-01-01T00:00:00+00:00,true\n`,
    );
    expect(report.rows.get('svc,bot')).toMatchObject({ arn: 'arn:aws:iam::1:user/svc,bot', passwordEnabled: true });
  });

  it('should parse doubled quotes and CRLF line ends', () => {
    expect(parseCsv('a,"b ""q""",c\r\n1,2,3\r\n')).toEqual([
      ['a', 'b "q"', 'c'],
      ['1', '2', '3'],
    ]);
  });

  it('should never let a Semaphore exceed its limit when a caller arrives as a slot frees', async () => {
    const s = new Semaphore(1);
    let active = 0;
    let peak = 0;
    const task = async () => {
      active++;
      peak = Math.max(peak, active);
      await sleep(5);
      active--;
    };
    let release!: () => void;
    const first = s.run(() => new Promise<void>((r) => (release = r)));
    const waiting = s.run(task);
    await sleep(1);
    release();
    const late = Promise.resolve().then(() => s.run(task));
    await Promise.all([first, waiting, late]);
    expect(peak).toBe(1);
  });

  it('should reject a mapLimit limit below 1', async () => {
    await expect(mapLimit([1, 2], 0, async (x) => x)).rejects.toThrow(/positive integer/);
  });

  it.each([
    ['aws: {}', '      aws: {}'],
    ['a namespace alone', '      vault: { namespace: team-a/ }'],
    ['empty user list', '      aws: { users: [] }'],
  ])('should reject an agent whose selectors cannot match anything (%s)', (_name, line) => {
    const text = `agents:\n  - id: bot\n    name: Bot\n    owner: { team: t, contact: t@example.com }\n    version: "1"\n    environment: dev\n    selectors:\n${line}\n`;
    expect(() => loadRegistryText('agents.yaml', text)).toThrow(
      /agents\.yaml:\d+ agents\[0\]\.selectors: needs at least one selector that can match/,
    );
  });
});
