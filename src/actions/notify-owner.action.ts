/**
 * notify-owner: acts on nothing. The plan exists so a policy can ask for "tell the owner" through
 * the same guardrails, audit trail and history as any other action; the engine's alert step
 * delivers the message to the agent's owner. Not reversible (there is nothing to undo).
 *
 * Contract: any kind; plan() always targets the credential (no backend ids); inspect() makes no
 * call and reads `{ exists: true, facts: {} }`; isDone false, refuse null, execute does nothing,
 * verify true. No permissions. Calls: none.
 */
import { z } from 'zod';
import type { ActionType } from './action-type.js';
import { credentialTarget } from './vault-support.js';

const schema = z.strictObject({});

export const notifyOwner: ActionType = {
  name: 'notify-owner',
  description: "Tell the credential's owner; change nothing",
  docs:
    'Changes nothing at AWS or Vault and makes no call to either: it needs no permission. The action is ' +
    "recorded like any other (guardrails, audit log, history), and the engine's alert step tells the " +
    "agent's owner (the registry's owner contact, through the configured alert channels) what was found " +
    'and why. Use it where a person should decide, or before switching a policy to an action that does ' +
    'change something. Not reversible, and nothing to undo.',
  example: `policies:
  - name: agent-token-never-expires
    description: Agent Vault tokens that never expire
    resource: { kinds: [vault-token], agents: ["*"] }
    rules: [{ type: never-expires }]
    severity: high
    mode: enforce
    remediation: [notify-owner]
`,
  schema,
  kinds: [],
  reversible: false,
  permissions: { aws: [], vault: [] },

  plan: (cred) => ({ target: credentialTarget(cred) }),

  inspect: async () => ({ exists: true, facts: {} }),

  isDone: () => false,

  refuse: () => null,

  execute: async () => {},

  verify: () => true,
};
