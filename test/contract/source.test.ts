/**
 * Both sources pass one Source contract (source-contract.ts), each against a real backend:
 * AWS IAM through the real SDK against moto (two accounts), Vault through node-vault against
 * OpenBao (three namespaces, AppRole, database leases).
 */
import { DeleteAccessKeyCommand, DeleteLoginProfileCommand, DeleteRoleCommand } from '@aws-sdk/client-iam';
import { afterAll } from 'vitest';
import type { App } from '../../src/main.js';
import { ACCOUNT_A, registry as awsRegistry, seedEstate } from '../fixtures/aws-estate.js';
import { seedOpenBao, registry as vaultRegistry } from '../fixtures/vault-estate.js';
import { testApp, useMotoCredentialsEnv, writeTestFiles } from '../support/app.js';
import { seederFor } from '../support/aws-seed.js';
import { useMoto } from '../support/moto.js';
import { postgresReachable, useOpenBao } from '../support/openbao.js';
import { useRedis } from '../support/redis.js';
import { sourceContract } from './source-contract.js';

const moto = useMoto();
const bao = useOpenBao();
const r = useRedis('source-contract');
const apps: App[] = [];
afterAll(async () => {
  for (const a of apps) await a.close();
});

sourceContract('AWS IAM over moto', async () => {
  useMotoCredentialsEnv();
  const estate = await seedEstate(moto.endpoint);
  const app = await testApp(
    writeTestFiles(
      {
        redis: { prefix: `${r.prefix}-aws` },
        aws: {
          endpoint: moto.endpoint,
          region: 'us-east-1',
          accounts: [
            { id: ACCOUNT_A, roleArn: `arn:aws:iam::${ACCOUNT_A}:role/credwarden-reader`, externalId: 'cw-ext-1' },
            { id: '222222222222', roleArn: 'arn:aws:iam::222222222222:role/credwarden-reader' },
          ],
        },
      },
      awsRegistry,
    ),
  );
  apps.push(app);
  const a = await seederFor(moto.endpoint, ACCOUNT_A);
  const invoiceKey = estate.keys['svc-invoice-bot']![0]!.accessKeyId;
  return {
    source: app.sources.find((s) => s.type === 'aws')!,
    registry: app.registry,
    kinds: ['aws-access-key', 'aws-role', 'aws-console-password'],
    secrets: Object.values(estate.keys).flatMap((ks) => ks.map((k) => k.secretAccessKey)),
    removable: [
      {
        id: `aws/${ACCOUNT_A}/access-key/${invoiceKey}`,
        remove: async () => {
          await a.iam.send(new DeleteAccessKeyCommand({ UserName: 'svc-invoice-bot', AccessKeyId: invoiceKey }));
        },
      },
      {
        id: `aws/${ACCOUNT_A}/role/agent-idle-role`,
        remove: async () => {
          await a.iam.send(new DeleteRoleCommand({ RoleName: 'agent-idle-role' }));
        },
      },
      {
        id: `aws/${ACCOUNT_A}/console-password/svc-reporter`,
        remove: async () => {
          await a.iam.send(new DeleteLoginProfileCommand({ UserName: 'svc-reporter' }));
        },
      },
    ],
    neverExisted: [
      `aws/${ACCOUNT_A}/access-key/AKIAIOSFODNN7NOTREAL`,
      `aws/${ACCOUNT_A}/role/no-such-role`,
      `aws/${ACCOUNT_A}/console-password/no-such-user`,
    ],
    foreign: ['vault/main/root/token/abc', 'aws/999999999999/role/agent-idle-role'],
  };
});

sourceContract('Vault over OpenBao', async () => {
  if (!(await postgresReachable())) throw new Error('PostgreSQL is not reachable at 127.0.0.1:5432 (trust auth)');
  const seeded = await seedOpenBao(bao);
  process.env.CW_TEST_VAULT_CONTRACT_TOKEN = seeded.scanner.token;
  const app = await testApp(
    writeTestFiles(
      {
        redis: { prefix: `${r.prefix}-vault` },
        vault: [
          {
            name: 'main',
            address: bao.address,
            token: ['$', '{env:CW_TEST_VAULT_CONTRACT_TOKEN}'].join(''),
            namespaces: ['root', 'team-a', 'team-b'],
            approleMounts: ['approle'],
            leasePrefixes: ['database/creds/'],
            awsMounts: [],
            requestTimeoutMs: 5000,
          },
        ],
      },
      vaultRegistry,
    ),
  );
  apps.push(app);
  const sid = (accessor: string) => `vault/main/root/approle/approle/deploy-agent/secret-id/${accessor}`;
  return {
    source: app.sources.find((s) => s.type === 'vault')!,
    registry: app.registry,
    kinds: ['vault-token', 'vault-approle-role', 'vault-approle-secret-id', 'vault-lease'],
    secrets: [
      bao.rootToken,
      ...[seeded.scanner, seeded.invoice, seeded.expiring, seeded.rogue, seeded.teamA, seeded.teamB].map(
        (t) => t.token,
      ),
    ],
    removable: [
      {
        id: `vault/main/root/token/${seeded.rogue.accessor}`,
        remove: async () => {
          await bao.call('POST', 'auth/token/revoke-accessor', { accessor: seeded.rogue.accessor });
        },
      },
      {
        id: sid(seeded.secretIds.day),
        remove: async () => {
          await bao.call('POST', 'auth/approle/role/deploy-agent/secret-id-accessor/destroy', {
            secret_id_accessor: seeded.secretIds.day,
          });
        },
      },
      {
        id: `vault/main/root/lease/${seeded.leases[0]}`,
        remove: async () => {
          await bao.call('PUT', 'sys/leases/revoke', { lease_id: seeded.leases[0] });
        },
      },
    ],
    neverExisted: [
      'vault/main/root/token/no-such-accessor-0000',
      'vault/main/root/approle/approle/no-such-role',
      sid('00000000-0000-0000-0000-000000000000'),
      'vault/main/root/lease/database/creds/no-such-role/abc123',
    ],
    foreign: ['aws/111111111111/role/agent-idle-role', 'vault/other/root/token/abc', 'vault/main/team-z/token/abc'],
  };
});
