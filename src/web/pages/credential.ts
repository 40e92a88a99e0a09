/**
 * GET /credentials/:id (the id URL-encoded, as the API's): one credential of the current
 * inventory. Its identity, its owner and agent (joined with the registry, an unregistered one
 * flagged), the explained risk score (each top contribution with the statements and fields
 * behind it), its grants with their provenance, its open findings, the actions on it and its
 * timeline (audit events about it, newest first). 404 (a page) when the inventory does not hold it.
 *
 * Data: the same reads as GET /api/v1/credentials/{id} (app.scans.credential, the stored score,
 * the findings and actions snapshots, actionJson), the registry, the policies' descriptions, and
 * the audit chain read backwards (credential-timeline.ts).
 */

import { credentialDetail } from '../../api/credential-detail.js';
import { principalInfo } from '../../model/principal.js';
import { html } from '../html.js';
import { definePage, type Page } from '../page.js';
import { actionsOn, explainedScore, grants, identity, openFindings, ownership, timeline } from './credential-parts.js';
import { timelineOf } from './credential-timeline.js';

const credentialPage = definePage({
  method: 'GET',
  url: '/credentials/:id',
  permission: 'posture:read',
  nav: 'findings',
  handle: async ({ deps, params, view }) => {
    const { app } = deps;
    const id = params.id ?? '';
    const now = app.clock.now().getTime();
    const detail = await credentialDetail(deps, id);
    if (!detail)
      return {
        status: 404,
        html: view(
          'No such credential',
          html`<h1>No such credential</h1>
<p>The current inventory holds no credential <code>${id}</code>. It may have been removed since, or the link is wrong.</p>
<p><a href="/findings">Back to the findings</a></p>`,
        ),
      };
    const { credential: c, score, findings, actions } = detail;
    const names = new Map((app.config.aws?.accounts ?? []).flatMap((a) => (a.name ? [[a.id, a.name] as const] : [])));
    const agent = c.agentId ? app.registry.agents.find((a) => a.id === c.agentId) : undefined;
    const titles = new Map(app.policies.policies.map((p) => [p.name, p.description]));
    const events = await timelineOf(app, id);
    const others = ((await deps.views.findings()).byCredential.get(id) ?? []).filter((f) => f.state !== 'open');
    const p = principalInfo(c, names);
    const body = html`<h1>Credential ${p.principalName} <small>${c.kind}</small></h1>
<div class="grid2">${identity(c, names, now)}${ownership(c, agent)}</div>
${explainedScore(score)}
${openFindings(findings, others, titles, now)}
${actionsOn(c.id, actions, now)}
${grants(c)}
${timeline(c, events, now)}`;
    return view(`Credential ${p.principalName}`, body);
  },
});

const pages: readonly Page[] = [credentialPage];
export default pages;
