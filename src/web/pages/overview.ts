/**
 * GET /: the overview, for on-call at a glance. Open findings by severity (links into the findings
 * list), their trend over the last 30 or 90 days (?days=30|90) drawn from each scan's evaluation
 * summary, the riskiest agents with the top reason of their explained score, the last scan's
 * coverage and drift, and where remediation stands (mode, kill switch, breaker, held actions).
 *
 * Data: deps.views (findings), the registry and agent scores (agents-data.ts, as
 * GET /api/v1/agents), app.scans (summaries, drift), app.findings.evaluation (per-scan open
 * counts), remediationStatus (as GET /api/v1/remediation), the newest drill (app.drills, as
 * GET /api/v1/drills?limit=1): its result and age in a small tile.
 */
import { remediationStatus } from '../../remediation/status.js';
import { html } from '../html.js';
import { definePage, nowOf, type Page } from '../page.js';
import { agentViews, riskiest } from './agents-data.js';
import { drillsTile } from './drills-parts.js';
import { daysOf, lastScans, openBySeverity, openTrend } from './overview-data.js';
import {
  coverageSection,
  driftSection,
  remediationSection,
  riskiestSection,
  severityTiles,
  trendSection,
} from './overview-parts.js';

const pages: readonly Page[] = [
  definePage({
    method: 'GET',
    url: '/',
    permission: 'posture:read',
    nav: 'overview',
    handle: async (call) => {
      const { app, views } = call.deps;
      const now = nowOf(call);
      const days = daysOf(call.query.days);
      const [findings, agents, trend, scans, remediation, drills] = await Promise.all([
        views.findings(),
        agentViews(call.deps),
        openTrend(app, new Date(now), days),
        lastScans(app),
        remediationStatus(app.remediation),
        app.drills.list(1),
      ]);
      const drift = scans.last ? await app.scans.drift(scans.last.id) : null;
      const byFingerprint = new Map(findings.sorted.map((f) => [f.fingerprint, f]));
      const body = html`<h1>Overview</h1>
${severityTiles(openBySeverity(findings.sorted))}
${trendSection(trend)}
${riskiestSection(riskiest(agents, 10), byFingerprint)}
<div class="grid2">
<div>${coverageSection(scans.last, scans.running, now)}</div>
<div>${driftSection(scans.last, scans.previous, drift?.events ?? null)}
${remediationSection(remediation, now)}
${drillsTile(drills[0] ?? null, now)}</div>
</div>`;
      return call.view('Overview', body);
    },
  }),
];
export default pages;
