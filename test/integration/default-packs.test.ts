/**
 * The default policy packs (cis-aws, owasp-nhi, agent-baseline) on the seeded AWS and Vault
 * estates of the inventory tests find exactly the expected findings: every (policy, credential)
 * pair below was checked by hand against the estate (test/fixtures/*-estate.ts). Then `scan --once`
 * through the queues evaluates, and `findings`, `score` and `policy test` work from the CLI.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type { Io } from '../../src/cli/context.js';
import { run } from '../../src/cli/main.js';
import { ManualClock } from '../../src/clock.js';
import type { App } from '../../src/main.js';
import {
  ACCOUNT_A,
  ACCOUNT_B,
  registry as awsRegistry,
  type SeededEstate,
  seedEstate,
} from '../fixtures/aws-estate.js';
import { type SeededVault, seedVault, registry as vaultRegistry } from '../fixtures/vault-estate.js';
import { type TestAppFiles, testApp, useMotoCredentialsEnv, writeTestFiles } from '../support/app.js';
import { useMoto } from '../support/moto.js';
import { useRedis } from '../support/redis.js';
import { startVaultDouble, type VaultDouble } from '../support/vault-double/index.js';

const moto = useMoto();
const r = useRedis('packs');
let aws: SeededEstate;
let vault: VaultDouble;
let sv: SeededVault;
let files: TestAppFiles;

const ENV_REF = ['$', '{env:CW_PACKS_VAULT_TOKEN}'].join('');

function registry() {
  const invoiceVault = vaultRegistry.agents.find((a) => a.id === 'invoice-bot')!.selectors;
  return {
    agents: [
      ...awsRegistry.agents.map((a) =>
        a.id === 'invoice-bot' ? { ...a, selectors: { ...a.selectors, ...invoiceVault } } : a,
      ),
      ...vaultRegistry.agents.filter((a) => a.id !== 'invoice-bot'),
    ],
    unregistered: { aws: awsRegistry.unregistered.aws, vault: vaultRegistry.unregistered.vault },
  };
}

function expected(): string[] {
  const key = (user: string, i = 0) => `aws/${ACCOUNT_A}/access-key/${aws.keys[user]![i]!.accessKeyId}`;
  const tok = (accessor: string, ns = 'root') => `vault/main/${ns}/token/${accessor}`;
  const sid = (accessor: string) => `vault/main/root/approle/approle/deploy-agent/secret-id/${accessor}`;
  const A = (rest: string) => `aws/${ACCOUNT_A}/${rest}`;
  const B = (rest: string) => `aws/${ACCOUNT_B}/${rest}`;
  return [
    // invoice-bot: grants (sqs:SendMessage, dynamodb:GetItem) beyond its declared s3 scope; one key inactive
    `agent-beyond-declared-scope ${key('svc-invoice-bot', 0)}`,
    `agent-beyond-declared-scope ${key('svc-invoice-bot', 1)}`,
    `agent-key-inactive-present ${key('svc-invoice-bot', 1)}`,
    // ... its group's s3:GetObject and dynamodb:GetItem are on "*"; its inline and managed
    // policies are on the user, not a group (CIS 1.15 / IAM.2), as is svc-etl-bot's inline one
    `agent-data-read-unconstrained ${key('svc-invoice-bot', 0)}`,
    `agent-data-read-unconstrained ${key('svc-invoice-bot', 1)}`,
    `cis-aws-permissions-through-groups ${key('svc-invoice-bot', 0)}`,
    `cis-aws-permissions-through-groups ${key('svc-invoice-bot', 1)}`,
    `cis-aws-permissions-through-groups ${`aws/${ACCOUNT_B}/access-key/${aws.keys['svc-etl-bot']![0]!.accessKeyId}`}`,
    // agent-looking, unregistered
    `nhi1-offboarding-unregistered ${key('agent-scraper')}`,
    `nhi1-offboarding-unregistered ${A('console-password/svc-reporter')}`,
    `nhi10-human-use ${A('console-password/svc-reporter')}`,
    // ... and it has no MFA (credential report mfa_active false; CIS 1.10 / IAM.5)
    `cis-aws-console-mfa ${A('console-password/svc-reporter')}`,
    `nhi1-offboarding-unregistered ${A('role/agent-idle-role')}`,
    // trust: assumable from account 123456789012 with no conditions
    `nhi3-third-party-trust ${A('role/agent-idle-role')}`,
    `nhi3-third-party-trust ${A('role/agent-runner-role')}`,
    `nhi3-third-party-trust ${B('role/etl-bot-role')}`,
    // etl-bot-role: glue:* (glue:GetConnection returns connection passwords: a secrets read on "*")
    `agent-resource-exposure ${B('role/etl-bot-role')}`,
    `agent-data-read-unconstrained ${B('role/etl-bot-role')}`,
    `cis-aws-no-service-wildcards ${B('role/etl-bot-role')}`,
    `nhi5-overprivileged-escalation ${B('role/etl-bot-role')}`,
    // Vault: secret IDs without TTL; the AWS engine role's ecs:*; tokens
    `nhi7-long-lived-vault ${sid(sv.secretIds.never)}`,
    `nhi7-long-lived-vault ${sid(sv.secretIds.limited)}`,
    `nhi5-overprivileged-escalation vault/main/root/aws-role/aws/deploy`,
    // No agent-vault-token-expiring: the invoice token (periodic) and team-a's (24 h, renewable, no
    // explicit max TTL) can both be renewed past the 3-day window.
    `nhi7-long-lived-vault ${tok(sv.invoice.accessor)}`,
    // team-a's bot reads kv/*: every secret of the mount
    `agent-vault-data-read-unconstrained ${tok(sv.teamA.accessor, 'team-a')}`,
    ...[
      'agent-vault-audit-sudo',
      'agent-vault-broad-glob',
      'agent-vault-data-read-unconstrained',
      'agent-vault-secret-id-minting',
      'agent-vault-sudo',
      'agent-vault-token-create-sudo',
      'nhi1-offboarding-unregistered',
      'nhi5-overprivileged-vault-policy-write',
    ].map((p) => `${p} ${tok(sv.rogue.accessor)}`),
    ...['nhi5-overprivileged-vault-policy-write', 'nhi5-overprivileged-vault-root', 'nhi7-long-lived-vault'].map(
      (p) => `${p} ${tok(vault.rootAccessor)}`,
    ),
  ].sort();
}

function capture(): Io & { stdout: string[]; stderr: string[] } {
  const stdout: string[] = [];
  const stderr: string[] = [];
  return { stdout, stderr, out: (s) => stdout.push(s), err: (s) => stderr.push(s), stderrIsTty: false };
}

describe('default policy packs on the seeded estates', () => {
  let app: App;
  beforeAll(async () => {
    useMotoCredentialsEnv();
    aws = await seedEstate(moto.endpoint);
    vault = await startVaultDouble();
    sv = seedVault(vault);
    process.env.CW_PACKS_VAULT_TOKEN = sv.scanner.token;
    files = writeTestFiles(
      {
        redis: { prefix: r.prefix },
        aws: {
          endpoint: moto.endpoint,
          accounts: [ACCOUNT_A, ACCOUNT_B].map((id) => ({ id, roleArn: `arn:aws:iam::${id}:role/credwarden-reader` })),
        },
        vault: [
          {
            name: 'main',
            address: vault.address,
            token: ENV_REF,
            namespaces: ['root', 'team-a'],
            leasePrefixes: ['aws/creds/'],
            awsMounts: ['aws'],
          },
        ],
        scan: { timeoutSeconds: 60 },
      },
      registry(),
    );
    app = await testApp(files, new ManualClock(Date.now() + 3_600_000));
    return async () => {
      await app.close();
      await vault.close();
    };
  });

  it('finds exactly the expected findings', async () => {
    await app.orchestrator.runInProcess('packs-1', 'test', app.orchestrator.units(), 2);
    const summary = await app.findings.evaluateScan('packs-1');
    const open = (await app.findings.all()).filter((f) => f.state === 'open');
    expect(open.map((f) => `${f.policy} ${f.credentialId}`).sort()).toEqual(expected());
    expect(summary.transitions['finding.opened']).toBe(expected().length);
    // No finding on credwarden's own scanner token or on the short-lived CI token.
    expect(
      open.some((f) => f.credentialId.endsWith(sv.scanner.accessor) || f.credentialId.endsWith(sv.expiring.accessor)),
    ).toBe(false);
    // Controls travel with the findings.
    expect(open.find((f) => f.policy === 'cis-aws-no-service-wildcards')?.controls).toEqual({
      securityhub: ['IAM.21'],
      soc2: ['CC6.3'],
      'nist-800-53': ['AC-6'],
    });
  });

  it('explains scores: the shadow agent token is at the top, root-level Vault power', async () => {
    const s = await app.findings.credentialScore(`vault/main/root/token/${sv.rogue.accessor}`);
    expect(s!.score).toBeGreaterThanOrEqual(90);
    expect(s!.top[0]).toMatchObject({ severity: 'critical' });
    expect(s!.top[0]!.evidence.length).toBeGreaterThan(0);
    const invoice = await app.findings.agentScore('invoice-bot');
    expect(invoice!.credentials.length).toBeGreaterThanOrEqual(3);
    expect(invoice!.vector).toHaveProperty('scope');
  });

  it('CLI: findings filters and exit code, score explanation, policy validate and policy test', async () => {
    let io = capture();
    expect(await run(['--config', files.configPath, 'findings', '--severity', 'critical', '--json'], io)).toBe(1);
    const critical = JSON.parse(io.stdout.join(''));
    expect(critical.length).toBeGreaterThan(0);
    expect(critical.every((f: { severity: string }) => f.severity === 'critical')).toBe(true);

    io = capture();
    expect(await run(['--config', files.configPath, 'findings', '--agent', 'invoice-bot'], io)).toBe(1);
    expect(io.stdout.join('\n')).toMatch(/agent-beyond-declared-scope/);

    io = capture();
    expect(await run(['--config', files.configPath, 'score', '--agent', 'invoice-bot'], io)).toBe(0);
    expect(io.stdout[0]).toMatch(/^agent invoice-bot: risk \d+\/100$/);
    expect(io.stdout.join('\n')).toMatch(/pts scope/);

    io = capture();
    expect(await run(['--config', files.configPath, 'findings', '--severity', 'urgent'], io)).toBe(2);
    expect(io.stderr[0]).toMatch(/--severity must be one of/);

    io = capture();
    expect(await run(['--config', files.configPath, 'policy', 'validate'], io)).toBe(0);
    expect(io.stdout[0]).toMatch(/^OK: \d+ policies and 0 exceptions in 3 files$/);

    io = capture();
    expect(await run(['--config', files.configPath, 'policy', 'test'], io)).toBe(0);
    expect(io.stdout.at(-1)).toMatch(/^\d+ passed, 0 failed$/);
  });

  it('scan --once --as-of evaluates through the queues as of a later date', async () => {
    const io = capture();
    const later = new Date(Date.now() + 120 * 86_400_000).toISOString();
    const code = await run(['--config', files.configPath, 'scan', '--once', '--as-of', later, '--json'], io);
    expect(io.stderr).toEqual([]);
    expect(code).toBe(0);
    const out = JSON.parse(io.stdout.join(''));
    expect(out.evaluation.asOf).toBe(later);
    const open = (await app.findings.all()).filter((f) => f.state === 'open');
    // 120 days on, the never-used agent keys and the 90-day rotation are overdue.
    expect(open.some((f) => f.policy === 'cis-aws-key-rotation-90d')).toBe(true);
    expect(open.some((f) => f.policy === 'agent-key-never-used')).toBe(true);
  });
});
