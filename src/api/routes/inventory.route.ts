/**
 * GET /api/v1/inventory: the current inventory, as stored (never a secret value: records hold
 * identifiers only), filtered by source type, account or cluster/namespace, kind and agent; by id.
 */
import type { Credential } from '../../model/credential.js';
import { authResponses, defineRoute, listOf, page, paging } from '../route.js';
import { accountMatches, credentialSchema, filter, query } from '../schemas.js';

export interface InventoryFilter {
  source?: string;
  account?: string;
  kind?: string;
  agent?: string;
}

export const matchesInventory = (c: Credential, q: InventoryFilter): boolean =>
  (!q.source || c.sourceType === q.source) &&
  (!q.account || accountMatches(c.source, q.account)) &&
  (!q.kind || c.kind === q.kind) &&
  (!q.agent || c.agentId === q.agent);

export default defineRoute({
  method: 'GET',
  url: '/api/v1/inventory',
  permission: 'posture:read',
  schema: {
    operationId: 'listInventory',
    summary: 'The credentials of the current inventory',
    tags: ['inventory'],
    querystring: query({
      source: filter.source,
      account: filter.account,
      kind: filter.kind,
      agent: filter.agent,
      ...paging,
    }),
    response: { 200: listOf('credentials, by id', credentialSchema), ...authResponses },
  },
  handle: async ({ deps, query: q }) => {
    const all = (await deps.views.inventory()).sorted;
    return page(
      all.filter((c) => matchesInventory(c, q as InventoryFilter)),
      q,
    );
  },
});
