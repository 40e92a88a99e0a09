/**
 * AWS secrets engine routes under each AWS mount (vault-api.md §3): LIST roles, roles/:name
 * read/write/delete (the over-privilege inputs), and creds/:role or sts/:role, which mint a lease
 * `<mount>/creds/<role>/<base62 24>` owned by the calling token with fake key material: iam_user
 * leases are renewable, STS types are not.
 */

import { listReply, nilResponse, noContent, ok, type Reply, userError } from './envelope.js';
import { createLease } from './leases.js';
import type { AwsCredentialType, AwsMount, AwsRole, Namespace } from './model.js';
import { type Ctx, type Handler, mountRoute, type Route } from './route.js';
import { SYSTEM_TTL, type VaultState } from './state.js';
import { base62, fieldDuration, fieldString, fieldStrings } from './util.js';

const CREDENTIAL_TYPES: AwsCredentialType[] = ['iam_user', 'assumed_role', 'federation_token', 'session_token'];

export function mountAws(ns: Namespace, path = 'aws'): AwsMount {
  const existing = ns.aws.get(path);
  if (existing) return existing;
  const mount: AwsMount = { path, roles: new Map() };
  ns.aws.set(path, mount);
  return mount;
}

export type AwsRoleInput = Partial<Omit<AwsRole, 'name' | 'credentialType'>> & { credentialType: AwsCredentialType };

export function putAwsRole(mount: AwsMount, name: string, input: AwsRoleInput): AwsRole {
  const role: AwsRole = {
    name,
    policyArns: [],
    policyDocument: '',
    roleArns: [],
    iamGroups: [],
    iamTags: {},
    defaultStsTtl: 0,
    maxStsTtl: 0,
    userPath: '/',
    permissionsBoundaryArn: '',
    ...input,
  };
  mount.roles.set(name, role);
  return role;
}

function roleData(r: AwsRole): Record<string, unknown> {
  return {
    credential_type: r.credentialType,
    default_sts_ttl: r.defaultStsTtl,
    external_id: '',
    iam_groups: r.iamGroups,
    iam_tags: r.iamTags,
    max_sts_ttl: r.maxStsTtl,
    mfa_serial_number: '',
    permissions_boundary_arn: r.permissionsBoundaryArn,
    policy_arns: r.policyArns,
    policy_document: r.policyDocument,
    role_arns: r.roleArns,
    session_tags: {},
    user_path: r.userPath,
  };
}

const upper = (n: number): string =>
  base62(n * 2)
    .replace(/[^A-Z0-9]/g, '')
    .padEnd(n, 'Q')
    .slice(0, n);

/** Mint credentials for `role`; the lease is owned by `owner` (revoked with it). */
export function mintAwsCreds(
  state: VaultState,
  ns: Namespace,
  mount: AwsMount,
  role: AwsRole,
  owner: Parameters<typeof createLease>[1]['owner'],
  opts: { ttl?: number; kind?: 'creds' | 'sts'; roleArn?: string } = {},
): { leaseId: string; duration: number; renewable: boolean; data: Record<string, unknown> } {
  const sts = role.credentialType !== 'iam_user';
  const ttl = sts ? opts.ttl || role.defaultStsTtl || 3600 : SYSTEM_TTL;
  const data: Record<string, unknown> = {
    access_key: `${sts ? 'ASIA' : 'AKIA'}${upper(16)}`,
    secret_key: base62(40),
    session_token: sts ? `FwoGZXIvYXdzE${base62(120)}` : null,
  };
  if (role.credentialType === 'assumed_role') {
    data.arn = `${opts.roleArn ?? role.roleArns[0] ?? ''}`
      .replace(':role/', ':assumed-role/')
      .concat(`/vault-${base62(8)}`);
  }
  const lease = createLease(state, {
    ns,
    path: `${mount.path}/${opts.kind ?? 'creds'}/${role.name}`,
    ttl,
    maxTtl: sts ? ttl : SYSTEM_TTL,
    renewable: !sts,
    owner,
    secret: { ...data, role: role.name, mount: mount.path },
  });
  return { leaseId: lease.id, duration: ttl, renewable: !sts, data };
}

const mountOf = (ctx: Ctx): AwsMount => ctx.ns.aws.get(ctx.params[0]!)!;

const writeRole: Handler = (ctx) => {
  const b = ctx.body;
  const prev = mountOf(ctx).roles.get(ctx.params[1]!);
  const type = (fieldString(b, 'credential_type') || prev?.credentialType || '') as AwsCredentialType;
  if (!type) return userError('did not supply credential_type');
  if (!CREDENTIAL_TYPES.includes(type)) return userError(`unrecognized credential_type: ${type}`);
  const pick = <T>(key: string, read: () => T, old: T | undefined, dflt: T): T =>
    b[key] !== undefined ? read() : (old ?? dflt);
  putAwsRole(mountOf(ctx), ctx.params[1]!, {
    credentialType: type,
    policyArns: pick('policy_arns', () => fieldStrings(b, 'policy_arns'), prev?.policyArns, []),
    policyDocument: pick('policy_document', () => fieldString(b, 'policy_document'), prev?.policyDocument, ''),
    roleArns: pick('role_arns', () => fieldStrings(b, 'role_arns'), prev?.roleArns, []),
    iamGroups: pick('iam_groups', () => fieldStrings(b, 'iam_groups'), prev?.iamGroups, []),
    defaultStsTtl: pick('default_sts_ttl', () => fieldDuration(b, 'default_sts_ttl', 0), prev?.defaultStsTtl, 0),
    maxStsTtl: pick('max_sts_ttl', () => fieldDuration(b, 'max_sts_ttl', 0), prev?.maxStsTtl, 0),
    userPath: pick('user_path', () => fieldString(b, 'user_path'), prev?.userPath, '/'),
    permissionsBoundaryArn: pick(
      'permissions_boundary_arn',
      () => fieldString(b, 'permissions_boundary_arn'),
      prev?.permissionsBoundaryArn,
      '',
    ),
  });
  return noContent();
};

function creds(kind: 'creds' | 'sts'): Handler {
  return (ctx): Reply => {
    const mount = mountOf(ctx);
    const role = mount.roles.get(ctx.params[1]!);
    if (!role) return userError(`Role "${ctx.params[1]}" not found`);
    if (kind === 'sts' && role.credentialType === 'iam_user') {
      return userError(`Can't generate STS credentials for a role that does not have STS capabilities`);
    }
    const minted = mintAwsCreds(ctx.state, ctx.ns, mount, role, ctx.token, {
      kind,
      ttl: fieldDuration(ctx.body, 'ttl', 0),
      roleArn: fieldString(ctx.body, 'role_arn') || undefined,
    });
    return ok(minted.data, { lease: { id: minted.leaseId, duration: minted.duration, renewable: minted.renewable } });
  };
}

const route = (re: RegExp, rest: Omit<Route, 'match' | 'mountType'>): Route =>
  mountRoute('', (ns) => ns.aws, re, { mountType: 'aws', ...rest });

export const awsRoutes: Route[] = [
  route(/^roles$/, { handlers: { list: (ctx) => listReply([...mountOf(ctx).roles.keys()].sort()) } }),
  route(/^roles\/([^/]+)$/, {
    exists: (ctx) => mountOf(ctx).roles.has(ctx.params[1]!),
    handlers: {
      read: (ctx) => {
        const role = mountOf(ctx).roles.get(ctx.params[1]!);
        return role ? ok(roleData(role)) : nilResponse();
      },
      create: writeRole,
      update: writeRole,
      delete: (ctx) => {
        mountOf(ctx).roles.delete(ctx.params[1]!);
        return noContent();
      },
    },
  }),
  route(/^creds\/([^/]+)$/, { handlers: { read: creds('creds'), update: creds('creds') } }),
  route(/^sts\/([^/]+)$/, { handlers: { read: creds('sts'), update: creds('sts') } }),
];
