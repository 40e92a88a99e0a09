/**
 * GET /api/v1/agents: the registry's agents (agents.yaml, as loaded), each with its explained risk
 * score (null before any evaluation), its open findings by severity, and how many credentials of
 * the current inventory are attributed to it. In registry order.
 */
import { SEVERITIES, type Severity } from '../../model/finding.js';
import { authResponses, defineRoute, listOf, openObject, page, paging } from '../route.js';
import { nullableRecord, query } from '../schemas.js';

const agentSchema = openObject('A registry agent with its posture', {
  id: { type: 'string' },
  name: { type: 'string' },
  score: nullableRecord('the explained risk score (null before any evaluation)'),
  openFindings: { type: 'integer' },
  openBySeverity: openObject('open findings per severity'),
  credentials: { type: 'integer', description: 'credentials of the current inventory attributed to it' },
});

const zero = () => Object.fromEntries(SEVERITIES.map((s) => [s, 0])) as Record<Severity, number>;

export default defineRoute({
  method: 'GET',
  url: '/api/v1/agents',
  permission: 'posture:read',
  schema: {
    operationId: 'listAgents',
    summary: 'Registered agents with their scores, open findings and credentials',
    tags: ['agents'],
    querystring: query({ ...paging }),
    response: { 200: listOf('agents, in registry order', agentSchema), ...authResponses },
  },
  handle: async ({ deps: { app, views }, query: q }) => {
    const [findings, inventory] = await Promise.all([
      views.findings().then((v) => v.sorted),
      views.inventory().then((v) => v.sorted),
    ]);
    const credentials = new Map<string, number>();
    for (const c of inventory) if (c.agentId) credentials.set(c.agentId, (credentials.get(c.agentId) ?? 0) + 1);
    const open = new Map<string, Record<Severity, number>>();
    for (const f of findings) {
      if (f.state !== 'open' || !f.agentId) continue;
      const counts = open.get(f.agentId) ?? zero();
      counts[f.severity]++;
      open.set(f.agentId, counts);
    }
    const { items, total, next } = page(app.registry.agents, q);
    const out = await Promise.all(
      items.map(async (a) => {
        const bySeverity = open.get(a.id) ?? zero();
        return {
          ...a,
          score: await app.findings.agentScore(a.id),
          openFindings: Object.values(bySeverity).reduce((n, v) => n + v, 0),
          openBySeverity: bySeverity,
          credentials: credentials.get(a.id) ?? 0,
        };
      }),
    );
    return { items: out, total, next };
  },
});
