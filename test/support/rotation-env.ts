/**
 * A rotation scenario: moto for IAM and STS, a real OpenBao for the delivery (its dev `secret/`
 * KV v2 mount), one registered agent per user with a `delivery` at `secret/data/<run>/<user>`,
 * and a remediation token whose only policy is read, create and update on those paths.
 *
 * The KV helpers read and write OpenBao as root (an operator, or the agent reading its secret);
 * `keyWorks` signs sts:GetCallerIdentity with a key pair against moto and returns the ARN or null.
 */
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import type { CreatedKey } from './aws-seed.js';
import type { OpenBao } from './openbao.js';
import { type Scenario, scenario, seedUsers } from './remediation-env.js';

const envRef = (name: string) => ['$', `{env:${name}}`].join('');
let run = 0;

export interface RotationScenario extends Scenario {
  /** The KV path (inside `secret/`) of a user's delivery. */
  kvPath(user: string): string;
  /** The current version of a user's delivery secret and its data (as the agent reads it). */
  kv(user: string, version?: number): Promise<{ version: number; data: Record<string, string> } | null>;
  /** Writes the user's delivery secret as root (no check-and-set): an operator or a concurrent writer. */
  putKv(user: string, data: Record<string, string>): Promise<number>;
  /** Every version number of the user's delivery secret. */
  kvVersions(user: string): Promise<number[]>;
  /** Replaces the remediation token's KV capabilities (e.g. `["read"]`: it can no longer write). */
  setKvCapabilities(caps: string[]): Promise<void>;
}

export function rotatePolicy(params = '', kind = 'aws-access-key'): string {
  return `policies:
  - name: agent-key-rotation
    description: Agent keys older than a day are rotated
    resource: { kinds: [${kind}], agents: ["*"] }
    rules: [{ type: rotation-overdue, days: 1 }]
    severity: medium
    mode: enforce
    remediation:
      - action: rotate-key${params ? `\n        ${params.split('\n').join('\n        ')}` : ''}
`;
}

export async function rotationScenario(opts: {
  motoEndpoint: string;
  bao: OpenBao;
  prefix: string;
  users: string[];
  policies?: string;
  remediation?: Record<string, unknown>;
  /** Users whose agent has no delivery target. */
  noDelivery?: string[];
  /** Deliver through a webhook announcement (the KV path as its secretRef) instead of plain KV. */
  webhook?: { url: string; signingSecretEnv: string };
}): Promise<RotationScenario> {
  const base = `rot${process.pid}x${++run}${Date.now().toString(36)}`;
  const kvPath = (user: string) => `${base}/${user}`;
  const bao = opts.bao;
  await bao.call('PUT', `sys/policies/acl/${base}-rem`, {
    policy: `path "secret/data/${base}/*" { capabilities = ["read", "create", "update"] }`,
  });
  const rem = await bao.call('POST', 'auth/token/create', {
    policies: [`${base}-rem`],
    no_default_policy: true,
    no_parent: true,
    display_name: 'credwarden-remediation',
  });
  process.env.CW_TEST_ROT_VAULT = bao.rootToken;
  process.env.CW_TEST_ROT_VAULT_REM = String(rem.auth.client_token);
  const kv = (u: string) => ({ cluster: 'main', path: `secret/data/${kvPath(u)}` });
  const deliveryFor = (u: string) =>
    opts.webhook
      ? { webhook: { url: opts.webhook.url, signingSecretEnv: opts.webhook.signingSecretEnv, secretRef: kv(u) } }
      : { vault: kv(u) };
  const registry = {
    agents: opts.users.map((u) => ({
      id: u.replace(/[^a-z0-9-]/g, '-'),
      name: u,
      owner: { team: 'platform', contact: 'platform@example.com' },
      version: '1.0.0',
      environment: 'prod',
      selectors: { aws: { users: [u] } },
      ...(opts.noDelivery?.includes(u) ? {} : { delivery: deliveryFor(u) }),
    })),
  };
  const s = await scenario({
    motoEndpoint: opts.motoEndpoint,
    prefix: opts.prefix,
    policies: opts.policies ?? rotatePolicy(),
    remediation: { cooldownHours: 0, ...opts.remediation },
    registry,
    config: {
      vault: [
        {
          name: 'main',
          address: bao.address,
          token: envRef('CW_TEST_ROT_VAULT'),
          remediationToken: envRef('CW_TEST_ROT_VAULT_REM'),
          namespaces: ['root'],
          approleMounts: [],
          leasePrefixes: [],
          awsMounts: [],
          requestTimeoutMs: 5000,
        },
      ],
    },
  });
  return {
    ...s,
    kvPath,
    async kv(user, version) {
      const q = version !== undefined ? `?version=${version}` : '';
      const r = await bao.request('GET', `secret/data/${kvPath(user)}${q}`);
      if (r.status !== 200 || !r.json?.data?.data) return null;
      return { version: r.json.data.metadata.version as number, data: r.json.data.data as Record<string, string> };
    },
    async putKv(user, data) {
      const out = await bao.call('POST', `secret/data/${kvPath(user)}`, { data });
      return out.data.version as number;
    },
    async setKvCapabilities(caps) {
      await bao.call('PUT', `sys/policies/acl/${base}-rem`, {
        policy: `path "secret/data/${base}/*" { capabilities = [${caps.map((c) => `"${c}"`).join(', ')}] }`,
      });
    },
    async kvVersions(user) {
      const r = await bao.request('GET', `secret/metadata/${kvPath(user)}`);
      if (r.status !== 200) return [];
      return Object.keys(r.json.data.versions as Record<string, unknown>)
        .map(Number)
        .sort((a, b) => a - b);
    },
  };
}

/** Users with one Active key each, whose delivery secret holds that key (version 1). */
export async function seedAgents(
  s: RotationScenario,
  endpoint: string,
  users: string[],
): Promise<Record<string, CreatedKey>> {
  const made = await seedUsers(
    endpoint,
    users.map((name) => ({ name, keys: ['active'] })),
  );
  const out: Record<string, CreatedKey> = {};
  for (const u of users) {
    const k = made[u]![0]!;
    out[u] = k;
    await s.putKv(u, { access_key_id: k.accessKeyId, secret_access_key: k.secretAccessKey, region: 'us-east-1' });
  }
  return out;
}

/** sts:GetCallerIdentity with the key: the ARN, or null when moto refuses the key. */
export async function keyWorks(endpoint: string, accessKeyId: string, secretAccessKey: string): Promise<string | null> {
  const sts = new STSClient({
    region: 'us-east-1',
    endpoint,
    credentials: { accessKeyId, secretAccessKey },
    maxAttempts: 1,
  });
  try {
    return (await sts.send(new GetCallerIdentityCommand({}))).Arn ?? null;
  } catch {
    return null;
  } finally {
    sts.destroy();
  }
}
