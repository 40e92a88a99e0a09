/**
 * GET /metrics: Prometheus exposition (api/metrics.ts): scans by outcome, credentials by kind,
 * open findings by severity, actions by state, queue depth and failures, audit append latency
 * across every process, the kill switch. Scrape it with a bearer token (Prometheus
 * `authorization: { credentials_file: … }`); deploy/grafana/credwarden.json charts it.
 */
import { authResponses, defineRoute } from '../route.js';

export default defineRoute({
  method: 'GET',
  url: '/metrics',
  permission: 'posture:read',
  schema: {
    operationId: 'metrics',
    summary: 'Prometheus metrics',
    tags: ['health'],
    response: { 200: { type: 'string', description: 'Prometheus text exposition format' }, ...authResponses },
  },
  handle: async ({ deps, reply }) => {
    const { contentType, body } = await deps.metrics.render();
    void reply.type(contentType);
    return body;
  },
});
