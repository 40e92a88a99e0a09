/**
 * GET /api/v1/scans: scan summaries, newest first (units, counts, drift counts, API calls; a
 * running scan has its start only).
 */
import { authResponses, defineRoute, listOf, paging } from '../route.js';
import { query, scanSummarySchema } from '../schemas.js';

/** How many scan ids the list pages over at most (newest first). */
const SCAN_IDS_LIMIT = 100_000;

export default defineRoute({
  method: 'GET',
  url: '/api/v1/scans',
  permission: 'posture:read',
  schema: {
    operationId: 'listScans',
    summary: 'Recent scans, newest first',
    tags: ['scans'],
    querystring: query({ ...paging, limit: { ...paging.limit, default: 20 } }),
    response: { 200: listOf('scan summaries, newest first', scanSummarySchema), ...authResponses },
  },
  handle: async ({ deps: { app }, query: q }) => {
    const limit = q.limit as number;
    const offset = q.offset as number;
    const ids = await app.scans.recentIds(SCAN_IDS_LIMIT);
    const pageIds = ids.slice(offset, offset + limit);
    const summaries = await Promise.all(pageIds.map((id) => app.scans.summary(id)));
    return {
      items: summaries.filter((s) => s !== null),
      total: ids.length,
      next: offset + limit < ids.length ? offset + limit : null,
    };
  },
});
