/**
 * Seeds the demo's Vault estate over Vault's HTTP API (node-vault `request` only), so the same code
 * works against a real Vault (`VAULT_ADDR` + an admin `VAULT_TOKEN`) and against the local
 * stand-in. Creates credwarden's read-only scanner policy and token, agent tokens (registered,
 * unregistered, an orphan periodic one, a short-lived one), an AppRole with several secret IDs,
 * and, where an AWS secrets engine is mounted, a role with leases under aws/creds/.
 * Returns the scanner token: the demo passes it to credwarden through the environment only.
 */
import nodeVault from 'node-vault';

type Req = { path: string; method: string; json?: unknown; headers?: Record<string, string> };

const SCANNER_RULES: [string, string][] = [
  ['auth/token/accessors', 'list", "sudo'],
  ['auth/token/lookup-accessor', 'update'],
  ['sys/policies/acl', 'list'],
  ['sys/policies/acl/*', 'read'],
  ['auth/approle/role', 'list'],
  ['auth/approle/role/*', 'read", "list'],
  ['auth/approle/role/+/secret-id-accessor/lookup', 'update'],
  ['sys/leases/lookup/aws/*', 'list", "sudo'],
  ['sys/leases/lookup', 'update'],
  ['aws/roles', 'list'],
  ['aws/roles/*', 'read'],
];

export const DEMO_SCANNER_POLICY = SCANNER_RULES.map(([p, c]) => `path "${p}" { capabilities = ["${c}"] }`).join('\n');

export async function seedDemoVault(
  address: string,
  adminToken: string,
): Promise<{ scannerToken: string; notes: string[] }> {
  const client = nodeVault({
    endpoint: address,
    token: adminToken,
    noCustomHTTPVerbs: true,
    requestOptions: { timeout: 5000 },
  });
  (client as { namespace?: string }).namespace = undefined;
  const req = (r: Req) =>
    client.request({ ...r, path: `/${r.path}` }) as Promise<
      { auth?: { client_token?: string; accessor?: string }; data?: Record<string, unknown> } | ''
    >;
  const ok = async (r: Req) => {
    try {
      return await req(r);
    } catch (err) {
      const status = (err as { response?: { statusCode?: number } }).response?.statusCode;
      if (status === 202 || status === 204) return '';
      throw err;
    }
  };
  const notes: string[] = [];
  const policy = (name: string, text: string) =>
    ok({ path: `sys/policies/acl/${name}`, method: 'PUT', json: { policy: text } });
  const token = async (body: Record<string, unknown>) => {
    const out = await ok({ path: 'auth/token/create', method: 'POST', json: body });
    return typeof out === 'object' && out.auth?.client_token ? out.auth.client_token : '';
  };

  await policy('credwarden-scanner', DEMO_SCANNER_POLICY);
  await policy('agent-invoice', 'path "secret/data/agents/invoice/*" { capabilities = ["read"] }');
  await policy('deploy', 'path "secret/data/deploy/*" { capabilities = ["read", "list"] }');
  await policy(
    'support-copilot',
    'path "secret/data/support/*" { capabilities = ["read"] }\npath "sys/policies/acl/*" { capabilities = ["update"] }',
  );
  await policy('break-glass', 'path "*" { capabilities = ["create", "read", "update", "delete", "list", "sudo"] }');

  const scannerToken = await token({ policies: ['credwarden-scanner'], display_name: 'credwarden', ttl: '768h' });
  await token({
    policies: ['agent-invoice'],
    display_name: 'invoice-bot',
    ttl: '720h',
    meta: { agent: 'invoice-bot' },
  });
  await token({
    policies: ['support-copilot'],
    display_name: 'support-copilot',
    period: '24h',
    no_parent: true,
    meta: { agent: 'support-copilot' },
  });
  await token({ policies: ['break-glass'], display_name: 'shadow-agent', ttl: '72h' });
  await token({ policies: ['default'], display_name: 'ci-job-4711', ttl: '5m' });

  try {
    await ok({ path: 'sys/auth/approle', method: 'POST', json: { type: 'approle' } });
  } catch {
    // Already enabled (real Vault answers 400 "path is already in use"); the stand-in mounts it by default.
  }
  await ok({
    path: 'auth/approle/role/deploy-agent',
    method: 'POST',
    json: { token_policies: ['deploy'], token_ttl: '1h' },
  });
  await ok({
    path: 'auth/approle/role/deploy-agent/secret-id',
    method: 'POST',
    json: { metadata: JSON.stringify({ purpose: 'ci' }) },
  });
  await ok({ path: 'auth/approle/role/deploy-agent/secret-id', method: 'POST', json: { ttl: '24h' } });
  await ok({
    path: 'auth/approle/role/invoice-bot',
    method: 'POST',
    json: { token_policies: ['agent-invoice'], secret_id_num_uses: 10 },
  });
  await ok({ path: 'auth/approle/role/invoice-bot/secret-id', method: 'POST', json: {} });

  try {
    await ok({
      path: 'aws/roles/deploy',
      method: 'POST',
      json: {
        credential_type: 'iam_user',
        policy_document: JSON.stringify({
          Version: '2012-10-17',
          Statement: [{ Effect: 'Allow', Action: 'ecs:*', Resource: '*' }],
        }),
      },
    });
    await ok({ path: 'aws/creds/deploy', method: 'GET' });
    await ok({ path: 'aws/creds/deploy', method: 'GET' });
  } catch (err) {
    notes.push(
      `no AWS secrets engine leases seeded (${(err as Error).message}); mount and configure aws/ to see leases`,
    );
  }
  return { scannerToken, notes };
}

if (process.argv[1]?.endsWith('seed-vault.ts')) {
  const address = process.env.VAULT_ADDR;
  const admin = process.env.VAULT_TOKEN;
  if (!address || !admin) {
    console.error('seed-vault: VAULT_ADDR and an admin VAULT_TOKEN are required');
    process.exit(2);
  }
  seedDemoVault(address, admin).then(
    ({ scannerToken, notes }) => {
      for (const n of notes) console.error(`demo: ${n}`);
      process.stdout.write(scannerToken);
    },
    (err) => {
      console.error(`demo: seeding Vault at ${address} failed: ${(err as Error).message}`);
      process.exit(2);
    },
  );
}
