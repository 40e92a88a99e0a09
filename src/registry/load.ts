/**
 * agents.yaml: the agent registry. Validated at load with located errors; agent ids are unique and
 * usable in credential ids and job ids.
 */
import { z } from 'zod';
import { located, parseYamlText, readYaml, validate, type YamlSource } from '../config/yaml-source.js';
import { CwError, ErrorCodes } from '../errors.js';
import { INPUT_LIMITS } from '../limits.js';
import type { Registry } from '../model/agent.js';

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
  delivery: z.record(z.string(), z.unknown()).optional(),
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
