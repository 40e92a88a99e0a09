/**
 * scope-excess: the credential can do more than its agent declares in agents.yaml `scopes`.
 * AWS statement grants are compared with `scopes.aws` (action patterns), Vault path grants with
 * `scopes.vault` ({path, capabilities}); a Vault AWS-engine role's IAM policy counts as AWS. One hit
 * per granting statement (AWS: the excess actions, 50 named plus the total) or per path grant
 * (Vault: the excess capabilities), so the finding says exactly what to remove and where.
 *
 * No agent → no hit (unregistered-agent is another rule's job). An empty scope list is ambiguous:
 * the registry loader turns a missing `scopes.aws` into `[]`, so "not declared" and "declared
 * empty" look the same here. By default an empty list means "not declared" (no hit), so that agents
 * registered without scopes do not flood findings; `emptyScope: nothing-in-scope` makes an empty
 * list mean "this agent needs nothing from that source", and every grant is then excess. A scopes
 * object without the key at all is always "not declared".
 */
import { z } from 'zod';
import type { Credential } from '../../model/credential.js';
import type { PrivilegeServices } from '../../privilege/index.js';
import { AWS_GRANT_KINDS, VAULT_GRANT_KINDS } from '../../privilege/rule-support.js';
import { awsScopeExcess, MAX_EXCESS_LISTED, vaultScopeExcess } from '../../privilege/scope.js';
import { statementEvidence } from '../../privilege/statement.js';
import { grantEvidence } from '../../privilege/vault-analysis.js';
import { privilege } from '../privilege-rules.js';
import type { RuleHit, RuleType } from '../types.js';

const schema = z.strictObject({
  emptyScope: z.enum(['undeclared', 'nothing-in-scope']).default('undeclared'),
  /**
   * Vault policies whose grants are never "beyond scope": `default` is attached to every token
   * and only lets a token look itself up, renew and revoke itself.
   */
  ignoreVaultPolicies: z.array(z.string()).default(['default']),
});
type Params = z.infer<typeof schema>;

function declared<T>(scopes: object | undefined, source: 'aws' | 'vault', params: Params): T[] | null {
  if (!scopes || !Object.hasOwn(scopes, source)) return null;
  const list = (scopes as Record<string, unknown>)[source];
  if (!Array.isArray(list)) return null;
  if (list.length === 0 && params.emptyScope === 'undeclared') return null;
  return list as T[];
}

function awsHits(p: PrivilegeServices, cred: Credential, patterns: readonly string[], agentId: string): RuleHit[] {
  const set = p.aws.permissionSet(cred.grants);
  return awsScopeExcess(set, p.catalog, patterns).map((x) => ({
    detector: 'scope',
    key: x.source.key,
    confidence: x.conditional ? 'conditional' : 'confirmed',
    message:
      `${x.total} action${x.total === 1 ? '' : 's'} beyond agent ${agentId}'s declared AWS scope, granted by ` +
      `${x.source.key}: ${x.excess.join(', ')}${x.total > x.excess.length ? ` … (+${x.total - x.excess.length} more)` : ''}`,
    evidence: [
      statementEvidence(
        x.source,
        x.blockedByBoundary ? `${x.blockedByBoundary} more are blocked by the boundary` : undefined,
      ),
      {
        field: 'excess',
        value: x.excess,
        ...(x.total > MAX_EXCESS_LISTED ? { note: `first ${MAX_EXCESS_LISTED} of ${x.total}` } : {}),
      },
      { field: 'registry.scopes.aws', value: [...patterns] },
    ],
  }));
}

function vaultHits(
  p: PrivilegeServices,
  cred: Credential,
  scopes: Parameters<typeof vaultScopeExcess>[1],
  agentId: string,
  ignored: readonly string[],
): RuleHit[] {
  return vaultScopeExcess(p.vault.analysis(cred.grants), scopes)
    .filter((x) => !ignored.includes(x.grant.provenance.policy))
    .map((x) => ({
      detector: 'scope',
      key: `${x.grant.provenance.policy}:${x.grant.path}`,
      confidence: 'confirmed',
      message: `path "${x.grant.path}" grants [${x.excess.join(', ')}] beyond agent ${agentId}'s declared Vault scope (policy ${x.grant.provenance.policy})`,
      evidence: [
        grantEvidence(x.grant),
        { field: 'excess', value: x.excess },
        { field: 'registry.scopes.vault', value: scopes },
      ],
    }));
}

export const scopeExcess: RuleType<Params> = {
  name: 'scope-excess',
  category: 'scope',
  description:
    "Grants beyond the agent's declared scopes (agents.yaml scopes.aws action patterns, scopes.vault path " +
    'capabilities): one hit per statement or path grant, listing exactly the excess actions or capabilities. ' +
    'No hit without an agent or without declared scopes for the source; emptyScope: nothing-in-scope treats an ' +
    'empty declared list as "needs nothing" instead of "not declared".',
  example: `policies:
  - name: agent-scope-excess
    description: Agent credentials granted more than the agent declares
    resource: { kinds: [aws-access-key, aws-role, vault-token] }
    rules:
      - type: scope-excess
    severity: medium
    mode: observe
`,
  schema,
  needs: ['grants', 'registry', 'agentId'],
  kinds: [...AWS_GRANT_KINDS, ...VAULT_GRANT_KINDS],
  evaluate(cred, params, ctx) {
    const agent = ctx.agent(cred.agentId);
    if (!agent) return [];
    const p = privilege(ctx);
    const hits: RuleHit[] = [];
    const aws = declared<string>(agent.scopes, 'aws', params);
    if (aws && cred.grants.some((g) => g.type === 'aws-statement')) hits.push(...awsHits(p, cred, aws, agent.id));
    const vault = declared<{ path: string; capabilities: string[] }>(agent.scopes, 'vault', params);
    if (vault && cred.grants.some((g) => g.type === 'vault-path'))
      hits.push(...vaultHits(p, cred, vault, agent.id, params.ignoreVaultPolicies));
    return hits;
  },
};
