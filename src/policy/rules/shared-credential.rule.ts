/**
 * shared-credential: one credential claimed by several registry agents.
 *
 * Contract: reads `attributes.agentCandidates`, which attribution sets only when more than one
 * agent's selectors matched (in registry file order; the first became `agentId`). Several agents
 * on one credential means a revocation breaks all of them and no single owner answers for it.
 * Duplicate ids are counted once. Time-free.
 */
import { z } from 'zod';
import type { RuleType } from '../types.js';

const schema = z.strictObject({});

export type SharedCredentialParams = z.output<typeof schema>;

export const sharedCredential: RuleType<SharedCredentialParams> = {
  name: 'shared-credential',
  category: 'hygiene',
  description:
    'Hits a credential that the selectors of more than one registry agent match (`attributes.agentCandidates`): ' +
    'one key or token shared by several agents, so a rotation or revocation breaks them all and no single ' +
    'owner answers for it. The first agent in agents.yaml order is the one recorded in `agentId`. Split ' +
    'the credential per agent or narrow the selectors. No parameters; no CIS or Security Hub equivalent.',
  example: `policies:
  - name: shared-agent-credential
    description: Credentials claimed by more than one agent
    resource: { kinds: [aws-access-key, aws-role, vault-token, vault-approle-secret-id] }
    rules:
      - type: shared-credential
    severity: medium
    mode: observe
`,
  schema,
  needs: ['attributes.agentCandidates', 'agentId'],
  evaluate(cred) {
    const raw = cred.attributes.agentCandidates;
    if (!Array.isArray(raw)) return [];
    const agents = [...new Set(raw.map(String))];
    if (agents.length < 2) return [];
    return [
      {
        message: `claimed by ${agents.length} agents (${agents.join(', ')}); attributed to ${cred.agentId ?? agents[0]} by registry order`,
        evidence: [
          { field: 'attributes.agentCandidates', value: agents },
          { field: 'agentId', value: cred.agentId },
        ],
        detector: 'shared',
      },
    ];
  },
};
