/**
 * Inventory benchmark. A measurement, not a test: it asserts nothing.
 *   `npm run bench:inventory -- --users N`: N agent users with two access keys each in moto, one
 *     discovery of that account; prints IAM calls per agent user and the wall time.
 *   `npm run bench:inventory -- --vault-tokens N [--concurrency C]`: N tokens in the Vault double;
 *     prints requests per credential and the wall time (see bench/vault.ts).
 */
import { CreateAccessKeyCommand, CreateUserCommand, IAMClient } from '@aws-sdk/client-iam';
import { STSClient } from '@aws-sdk/client-sts';
import { systemClock } from '../../src/clock.js';
import { AwsSchema } from '../../src/config/schema.js';
import { createLogger } from '../../src/logger.js';
import { AwsIamSource } from '../../src/sources/aws/aws-iam.source.js';
import { AwsClientPool } from '../../src/sources/aws/client-pool.js';
import { mapLimit } from '../../src/util/concurrency.js';

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  if (i === -1) return fallback;
  const v = Number(process.argv[i + 1]);
  if (!Number.isInteger(v) || v < 1) {
    console.error(`bench: --${name} needs a positive integer, got "${process.argv[i + 1] ?? ''}"`);
    process.exit(2);
  }
  return v;
}

if (process.argv.includes('--vault-tokens')) {
  const { benchVault } = await import('./vault.js');
  await benchVault(arg('vault-tokens', 10_000), arg('concurrency', 16));
  process.exit(0);
}

const endpoint = process.env.CW_BENCH_MOTO;
if (!endpoint) {
  console.error('bench: CW_BENCH_MOTO (moto endpoint) is not set; run through `npm run bench:inventory`');
  process.exit(2);
}
const users = arg('users', 1000);
const account = '123456789012';
const creds = { accessKeyId: 'bench', secretAccessKey: 'bench' };

await fetch(`${endpoint}/moto-api/reset`, { method: 'POST' });
const seeder = new IAMClient({ region: 'us-east-1', endpoint, credentials: creds });
const t0 = performance.now();
await mapLimit(
  Array.from({ length: users }, (_, i) => `agent-bench-${String(i).padStart(5, '0')}`),
  8,
  async (name) => {
    await seeder.send(new CreateUserCommand({ UserName: name, Tags: [{ Key: 'agent', Value: 'true' }] }));
    await seeder.send(new CreateAccessKeyCommand({ UserName: name }));
    await seeder.send(new CreateAccessKeyCommand({ UserName: name }));
  },
);
const seedMs = performance.now() - t0;

process.env.AWS_ACCESS_KEY_ID = creds.accessKeyId;
process.env.AWS_SECRET_ACCESS_KEY = creds.secretAccessKey;
const cfg = AwsSchema.parse({ endpoint, accounts: [{ id: account }] });
const pool = new AwsClientPool(cfg, { iam: (c) => new IAMClient(c), sts: (c) => new STSClient(c) }, systemClock);
const source = new AwsIamSource(cfg, pool);
const registry = {
  agents: [],
  unregistered: {
    aws: { tags: { agent: 'true' }, namePatterns: [] },
    vault: { meta: [], displayNamePatterns: [], policyPatterns: [] },
  },
};
const t1 = performance.now();
const result = await source.discover(`aws/${account}`, {
  clock: systemClock,
  log: createLogger({ level: 'warn' }),
  registry,
});
const scanMs = performance.now() - t1;
pool.destroy();
seeder.destroy();

const keys = result.credentials.filter((c) => c.kind === 'aws-access-key').length;
console.log(`agent users:            ${users}`);
console.log(`access keys found:      ${keys} (expected ${users * 2})`);
console.log(`IAM/STS calls:          ${result.apiCalls.total} (${result.apiCalls.attempts} HTTP attempts)`);
console.log(`calls per agent user:   ${(result.apiCalls.total / users).toFixed(3)}`);
console.log(`  by operation:         ${JSON.stringify(result.apiCalls.byOperation)}`);
console.log(`discovery wall time:    ${(scanMs / 1000).toFixed(2)} s (concurrency ${cfg.maxConcurrency})`);
console.log(`seeding wall time:      ${(seedMs / 1000).toFixed(2)} s`);
console.log(`problems:               ${result.problems.length ? JSON.stringify(result.problems) : 'none'}`);
