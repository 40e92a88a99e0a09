/**
 * unregistered-agent: the credential looks like an agent's, but no registry entry claims it.
 *
 * Contract: reads `unregisteredAgent`, which registry attribution set from the `unregistered:`
 * rules in agents.yaml (agent tags, name patterns, Vault meta keys, policy patterns). Such a
 * credential has no owner to page, no declared scope to compare against, and no delivery target
 * for a rotated secret, so nothing else can be automated for it until it is registered. Time-free.
 */
import { z } from 'zod';
import type { RuleType } from '../types.js';

const schema = z.strictObject({});

export type UnregisteredAgentParams = z.output<typeof schema>;

export const unregisteredAgent: RuleType<UnregisteredAgentParams> = {
  name: 'unregistered-agent',
  category: 'hygiene',
  description:
    "Hits a credential that looks like an AI agent's (it matches the `unregistered:` tags, name patterns, " +
    "Vault meta keys or policy patterns of agents.yaml) but that no registry agent's selectors claim. " +
    'An unregistered agent has no owner, no declared scope and no delivery target, so register it or ' +
    'remove it. No parameters; no CIS or Security Hub equivalent (none of them know about agents).',
  example: `policies:
  - name: shadow-agent
    description: Agent-looking credentials that no registry entry claims
    resource: { kinds: [aws-access-key, aws-role, vault-token, vault-approle-secret-id] }
    rules:
      - type: unregistered-agent
    severity: high
    mode: observe
`,
  schema,
  needs: ['registry'],
  evaluate(cred) {
    if (!cred.unregisteredAgent) return [];
    return [
      {
        message: `looks like an agent's credential (principal ${cred.principal}) but no registry agent claims it`,
        evidence: [
          { field: 'unregisteredAgent', value: true },
          { field: 'agentId', value: cred.agentId },
          { field: 'principal', value: cred.principal },
          ...(Object.keys(cred.tags).length ? [{ field: 'tags', value: cred.tags }] : []),
        ],
        detector: 'unregistered',
      },
    ];
  },
};
