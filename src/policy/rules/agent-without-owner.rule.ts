/**
 * agent-without-owner: the credential belongs to a registry agent that nobody owns.
 *
 * Contract: looks the agent up with `ctx.agent(cred.agentId)`, the registry being the source of
 * truth for ownership (the record's `owner` is a copy taken at scan time). Hits when the agent has
 * no `owner`, or an owner whose team or contact is empty or blank. A credential with no agent, or
 * whose agent id the registry no longer knows, is not this rule's business (see
 * `unregistered-agent`). Time-free.
 */
import { z } from 'zod';
import type { RuleType } from '../types.js';

const schema = z.strictObject({});

export type AgentWithoutOwnerParams = z.output<typeof schema>;

export const agentWithoutOwner: RuleType<AgentWithoutOwnerParams> = {
  name: 'agent-without-owner',
  category: 'hygiene',
  description:
    'Hits a credential attributed to a registry agent that has no owner in agents.yaml, or whose owner ' +
    'has an empty `team` or `contact`. Without an owner there is nobody to notify before a remediation ' +
    'and nobody to approve it, so every finding on the credential stalls. No parameters; no CIS or ' +
    'Security Hub equivalent.',
  example: `policies:
  - name: orphan-agent
    description: Credentials of registry agents that nobody owns
    resource: { kinds: [aws-access-key, aws-role, vault-token, vault-approle-secret-id] }
    rules:
      - type: agent-without-owner
    severity: medium
    mode: observe
`,
  schema,
  needs: ['agentId', 'registry'],
  evaluate(cred, _params, ctx) {
    if (cred.agentId === null) return [];
    const agent = ctx.agent(cred.agentId);
    if (!agent) return [];
    const field = `registry.agents[${agent.id}].owner`;
    if (!agent.owner) {
      return [
        {
          message: `agent ${agent.id} (${agent.name}) has no owner in the registry`,
          evidence: [
            { field: 'agentId', value: cred.agentId },
            { field, value: null },
          ],
          detector: 'no-owner',
        },
      ];
    }
    const owner = agent.owner;
    const blank = (['team', 'contact'] as const).filter((k) => !owner[k]?.trim());
    if (!blank.length) return [];
    return [
      {
        message: `agent ${agent.id} (${agent.name}) has an owner with an empty ${blank.join(' and ')}`,
        evidence: [
          { field: 'agentId', value: cred.agentId },
          { field, value: owner, note: `empty: ${blank.join(', ')}` },
        ],
        detector: 'no-owner',
      },
    ];
  },
};
