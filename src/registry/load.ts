/**
 * agents.yaml: the agent registry. Validated at load with located errors; agent ids are unique and
 * usable in credential ids and job ids.
 */
import { z } from 'zod';
import { located, parseYamlText, readYaml, validate, type YamlSource } from '../config/yaml-source.js';
import { CwError, ErrorCodes } from '../errors.js';
import { INPUT_LIMITS } from '../limits.js';
import type { Registry } from '../model/agent.js';
import type { DeliveryTarget, VaultDelivery } from '../model/rotation.js';

const globs = z.array(z.string().min(1)).default([]);
const tagMap = z.record(z.string(), z.string()).default({});

const vaultScope = z.union([
  z
    .string()
    .regex(/^[^:]+:[a-z,]+$/, 'must be "<path>:<capability>[,<capability>…]"')
    .transform((s) => {
      const i = s.lastIndexOf(':');
      return { path: s.slice(0, i), capabilities: s.slice(i + 1).split(',') };
    }),
  z.strictObject({ path: z.string().min(1), capabilities: z.array(z.string()).min(1) }),
]);

const KV_SEGMENT = /^[A-Za-z0-9._-]+$/;
const kvPath = z
  .string()
  .min(1)
  .refine(
    (p) => p.split('/').every((seg) => KV_SEGMENT.test(seg) && seg !== '.' && seg !== '..'),
    'must be "/"-separated names (letters, digits, . _ -; no "." or ".." segment)',
  );

/**
 * A KV v2 location. `path` is the API path (`secret/data/agents/x/aws`: mount, `data`, the
 * secret's path), or, with `mount`, the secret's path inside it.
 */
const kvLocation = z
  .strictObject({
    /** Optional when exactly one Vault cluster is configured (resolveDeliveries fills it in). */
    cluster: z.string().min(1).optional(),
    namespace: z.string().default('root'),
    mount: kvPath.optional(),
    path: kvPath,
    field: z
      .string()
      .regex(/^[A-Za-z0-9_-]+$/)
      .optional(),
  })
  .transform((v, ctx): VaultDelivery => {
    let mount = v.mount;
    let path = v.path;
    if (mount === undefined) {
      const i = v.path.indexOf('/data/');
      if (i <= 0) {
        ctx.addIssue({
          code: 'custom',
          path: ['path'],
          message: 'must be a KV v2 API path "<mount>/data/<path>" (or give mount: and the path inside it)',
        });
        return z.NEVER;
      }
      mount = v.path.slice(0, i);
      path = v.path.slice(i + '/data/'.length);
    }
    return {
      type: 'vault',
      cluster: v.cluster ?? '',
      namespace: v.namespace,
      mount,
      path,
      ...(v.field ? { field: v.field } : {}),
    };
  });

const AgentSchema = z.strictObject({
  id: z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'must be lowercase letters, digits and dashes'),
  name: z.string().min(1),
  /** Optional so that an ownerless agent can be registered and then flagged (hygiene: agent-without-owner). */
  owner: z.strictObject({ team: z.string().min(1), contact: z.string().min(3) }).optional(),
  version: z.string().min(1),
  environment: z.string().min(1),
  scopes: z
    .strictObject({ aws: z.array(z.string()).default([]), vault: z.array(vaultScope).default([]) })
    .default({ aws: [], vault: [] }),
  selectors: z
    .strictObject({
      aws: z.strictObject({ users: globs, roles: globs, tags: tagMap }).optional(),
      vault: z
        .strictObject({
          displayNames: globs,
          meta: tagMap,
          approleRoles: globs,
          policies: globs,
          entities: globs,
          namespace: z.string().optional(),
        })
        .optional(),
    })
    .refine(
      (s) => {
        const a = s.aws;
        const v = s.vault;
        const awsUsable = !!a && (a.users.length > 0 || a.roles.length > 0 || Object.keys(a.tags).length > 0);
        const vaultUsable =
          !!v &&
          (v.displayNames.length > 0 ||
            v.approleRoles.length > 0 ||
            v.policies.length > 0 ||
            v.entities.length > 0 ||
            Object.keys(v.meta).length > 0);
        return awsUsable || vaultUsable;
      },
      {
        message:
          'needs at least one selector that can match (aws users/roles/tags, or vault displayNames/meta/approleRoles/policies/entities)',
      },
    ),
  delivery: z
    .strictObject({
      vault: kvLocation.optional(),
      webhook: z
        .strictObject({
          url: z.url({ protocol: /^https?$/ }),
          secretRef: kvLocation,
          signingSecretEnv: z.string().regex(/^[A-Z_][A-Z0-9_]*$/, 'must be an environment variable name'),
        })
        .optional(),
    })
    .refine((d) => (d.vault ? 1 : 0) + (d.webhook ? 1 : 0) === 1, 'needs exactly one of vault: or webhook:')
    .transform(
      (d): DeliveryTarget =>
        d.vault ?? {
          type: 'webhook',
          url: d.webhook!.url,
          signingSecretEnv: d.webhook!.signingSecretEnv,
          store: d.webhook!.secretRef,
        },
    )
    .optional(),
});

const RegistrySchema = z.strictObject({
  agents: z.array(AgentSchema).default([]),
  unregistered: z
    .strictObject({
      aws: z.strictObject({ tags: tagMap, namePatterns: globs }).default({ tags: {}, namePatterns: [] }),
      vault: z
        .strictObject({ meta: globs, displayNamePatterns: globs, policyPatterns: globs })
        .default({ meta: [], displayNamePatterns: [], policyPatterns: [] }),
    })
    .default({ aws: { tags: {}, namePatterns: [] }, vault: { meta: [], displayNamePatterns: [], policyPatterns: [] } }),
});

const CODE = ErrorCodes.REGISTRY;

function fromSource(src: YamlSource): Registry {
  const reg = validate(src, RegistrySchema, CODE);
  const seen = new Map<string, number>();
  reg.agents.forEach((a, i) => {
    const prev = seen.get(a.id);
    if (prev !== undefined) {
      throw new CwError(
        CODE,
        located(src, ['agents', i, 'id'], `duplicate agent id "${a.id}" (first at agents[${prev}])`),
      );
    }
    seen.set(a.id, i);
  });
  return reg as Registry;
}

export async function loadRegistry(file: string): Promise<Registry> {
  return fromSource(await readYaml(file, CODE, INPUT_LIMITS.registryFileBytes));
}

export function loadRegistryText(file: string, text: string): Registry {
  return fromSource(parseYamlText(file, text, CODE, INPUT_LIMITS.registryFileBytes));
}

/**
 * Every agent's delivery names a configured Vault cluster: one without `cluster` gets the only
 * configured cluster; none configured, several, or an unknown name is an error naming the agent.
 */
export function resolveDeliveries(registry: Registry, clusters: readonly string[], file: string): Registry {
  const agents = registry.agents.map((a, i) => {
    if (!a.delivery) return a;
    const kv = a.delivery.type === 'vault' ? a.delivery : a.delivery.store;
    const where = `${file}: agents[${i}] (${a.id}).delivery${a.delivery.type === 'webhook' ? '.webhook.secretRef' : '.vault'}`;
    let cluster = kv.cluster;
    if (cluster === '') {
      if (clusters.length !== 1)
        throw new CwError(
          CODE,
          `${where}: needs cluster: (${clusters.length === 0 ? 'no Vault cluster is configured' : `configured: ${clusters.join(', ')}`})`,
        );
      cluster = clusters[0]!;
    } else if (!clusters.includes(cluster))
      throw new CwError(
        CODE,
        `${where}.cluster: "${cluster}" is not a configured Vault cluster (${clusters.length ? clusters.join(', ') : 'none configured'})`,
      );
    const resolved = { ...kv, cluster };
    return { ...a, delivery: a.delivery.type === 'vault' ? resolved : { ...a.delivery, store: resolved } };
  });
  return { ...registry, agents };
}
