/**
 * Seeds the demo's Vault estate over Vault's HTTP API (node-vault `request` only), so the same code
 * works against any Vault-compatible server: a real Vault (`VAULT_ADDR` + an admin `VAULT_TOKEN`)
 * or the local OpenBao dev server the demo starts. Creates credwarden's read-only scanner policy
 * and token, agent tokens (registered, unregistered, an orphan periodic one, a short-lived one),
 * an AppRole with several secret IDs, and leases:
 * - where an AWS secrets engine is mounted (Vault), a role with leases under aws/creds/;
 * - when `postgres` (host:port, trust auth, user postgres) is given and reachable, the database
 *   engine at database/ with a role minting PostgreSQL users: leases under database/creds/.
 * What could not be seeded is returned as notes. Returns the scanner token: the demo passes it to
 * credwarden through the environment only.
 */
import { connect } from 'node:net';
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
  ['sys/leases/lookup/database/*', 'list", "sudo'],
  ['sys/leases/lookup', 'update'],
  ['aws/roles', 'list'],
  ['aws/roles/*', 'read'],
];

export const DEMO_SCANNER_POLICY = SCANNER_RULES.map(([p, c]) => `path "${p}" { capabilities = ["${c}"] }`).join('\n');

/** The PostgreSQL role the demo's database engine creates for each lease. */
export const DEMO_DB_ROLE = 'demo-readonly';

function reachable(hostPort: string): Promise<boolean> {
  const [host = '127.0.0.1', port = '5432'] = hostPort.split(':');
  return new Promise((resolve) => {
    const sock = connect(Number(port), host);
    const done = (ok: boolean) => {
      sock.destroy();
      resolve(ok);
    };
    sock.setTimeout(1_000, () => done(false));
    sock.once('connect', () => done(true));
    sock.once('error', () => done(false));
  });
}

export async function seedDemoVault(
  address: string,
  adminToken: string,
  opts: { postgres?: string } = {},
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
    // Already enabled (real Vault answers 400 "path is already in use").
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
      `no AWS secrets engine at aws/ (OpenBao has none): no AWS engine role or aws/creds/ leases seeded (${(err as Error).message})`,
    );
  }

  if (opts.postgres) {
    if (await reachable(opts.postgres)) {
      try {
        await ok({ path: 'sys/mounts/database', method: 'POST', json: { type: 'database' } });
      } catch {
        // Already mounted.
      }
      await ok({
        path: 'database/config/demo-postgres',
        method: 'POST',
        json: {
          plugin_name: 'postgresql-database-plugin',
          connection_url: `postgresql://{{username}}:{{password}}@${opts.postgres}/postgres?sslmode=disable`,
          username: 'postgres',
          password: 'unused-trust-auth',
          allowed_roles: DEMO_DB_ROLE,
          username_template: 'cwdemo-{{random 12}}',
        },
      });
      await ok({
        path: `database/roles/${DEMO_DB_ROLE}`,
        method: 'POST',
        json: {
          db_name: 'demo-postgres',
          creation_statements: [
            `CREATE ROLE "{{name}}" WITH LOGIN PASSWORD '{{password}}' VALID UNTIL '{{expiration}}';`,
          ],
          default_ttl: '1h',
          max_ttl: '24h',
        },
      });
      await ok({ path: `database/creds/${DEMO_DB_ROLE}`, method: 'GET' });
      await ok({ path: `database/creds/${DEMO_DB_ROLE}`, method: 'GET' });
      notes.push(`seeded 2 leases under database/creds/${DEMO_DB_ROLE}/ (PostgreSQL users at ${opts.postgres})`);
    } else {
      notes.push(
        `PostgreSQL is not reachable at ${opts.postgres}: no database leases seeded (the inventory has no leases)`,
      );
    }
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
  seedDemoVault(address, admin, { postgres: process.env.CW_DEMO_POSTGRES || undefined }).then(
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
