/**
 * Which sinks hear about which items, once. Pure.
 *
 *  1. Silences drop matching items (each drop is audited once; an expired silence is audited once).
 *  2. Inhibition drops a child item while a parent finding is open on the same credential or agent.
 *  3. Items in an enabled paging class page, one notification per item per page sink; a resolve
 *     pages only where the trigger paged (same dedup key). Everything else goes into one digest
 *     per owner team per digest sink for this scan.
 *  4. Routes pick the sinks: first match wins unless `continue`; no routes means every PagerDuty
 *     sink pages and every other sink gets digests.
 *
 * An item can carry several policies (one finding for one risk, policy/collapse.ts). A route or an
 * inhibition parent matches when any of them matches; a silence, or an inhibition child, only when
 * every one does, so muting one policy never mutes a risk that another policy still reports.
 */
import { createHash } from 'node:crypto';
import type { Finding } from '../policy/model.js';
import { anyGlob } from '../registry/glob.js';
import type { AlertRoute, AlertsConfig, InhibitRule, SilenceRule } from './config.js';
import type { AlertItem, DrillRoute, Notification } from './types.js';

export interface PlanInput {
  scanId: string;
  now: Date;
  items: AlertItem[];
  /** The paging class of each trigger item (by item id), null for digest-only. */
  pageClass: ReadonlyMap<string, string | null>;
  findings: ReadonlyMap<string, Finding>;
  config: AlertsConfig;
  sinkTypes: ReadonlyMap<string, string>;
  /** Fingerprint → the sinks its trigger paged. */
  paged: ReadonlyMap<string, string[]>;
  alreadyExpiredSilences: ReadonlySet<string>;
  /** Config `drills.alerts`, for items carrying a drill. */
  drillRoute?: DrillRoute;
}

export interface PlanAudit {
  type: 'alert.silenced' | 'alert.inhibited' | 'silence.expired';
  subject: string;
  data: Record<string, unknown>;
}

export interface AlertPlan {
  notifications: Notification[];
  audit: PlanAudit[];
  /** Paging state changes: fingerprints now paged (with sinks), and those resolved. */
  pagedAdd: [string, string[]][];
  pagedRemove: string[];
}

export const msgId = (...parts: string[]) =>
  `msg_${createHash('sha256').update(parts.join('\n')).digest('hex').slice(0, 32)}`;

const silenceActive = (s: SilenceRule, now: Date) => new Date(s.expires).getTime() > now.getTime();

const policiesOf = (x: { policy: string; policies?: string[] | undefined }): string[] =>
  x.policies?.length ? x.policies : [x.policy];

function silenceMatches(s: SilenceRule, i: AlertItem): boolean {
  const m = s.matchers;
  return (
    (!m.credentials || anyGlob(m.credentials, i.credentialId)) &&
    (!m.agents || anyGlob(m.agents, i.agentId)) &&
    (!m.policies || policiesOf(i).every((p) => anyGlob(m.policies, p))) &&
    (!m.teams || anyGlob(m.teams, i.owner?.team))
  );
}

function selectorMatches(
  sel: InhibitRule['parent'],
  policies: readonly string[],
  detectors: readonly string[],
  all: boolean,
): boolean {
  const policyOk = (p: string) => anyGlob(sel.policies, p);
  return (
    (!sel.policies || (all ? policies.every(policyOk) : policies.some(policyOk))) &&
    (!sel.detectors || detectors.some((d) => anyGlob(sel.detectors, d)))
  );
}

function inhibitedBy(
  item: AlertItem,
  rules: readonly InhibitRule[],
  findings: ReadonlyMap<string, Finding>,
): Finding | null {
  if (item.action !== 'trigger') return null;
  const detectors = item.detector ? [item.detector] : [];
  for (const r of rules) {
    if (!selectorMatches(r.child, policiesOf(item), detectors, true)) continue;
    for (const f of findings.values()) {
      if (f.state !== 'open' || f.fingerprint === item.fingerprint) continue;
      const same =
        r.equal === 'credential'
          ? f.credentialId === item.credentialId
          : f.agentId !== null && f.agentId === item.agentId;
      if (
        same &&
        selectorMatches(
          r.parent,
          policiesOf(f),
          f.hits.map((h) => h.detector),
          false,
        )
      )
        return f;
    }
  }
  return null;
}

export function routeFor(
  item: Pick<AlertItem, 'severity' | 'owner' | 'agentId' | 'environment' | 'policy' | 'policies'>,
  routes: readonly AlertRoute[],
  sinkTypes: ReadonlyMap<string, string>,
): { page: string[]; digest: string[] } {
  if (routes.length === 0) {
    const names = [...sinkTypes.keys()];
    return {
      page: names.filter((n) => sinkTypes.get(n) === 'pagerduty'),
      digest: names.filter((n) => sinkTypes.get(n) !== 'pagerduty'),
    };
  }
  const page = new Set<string>();
  const digest = new Set<string>();
  for (const r of routes) {
    const m = r.match;
    const ok =
      (!m.severities || m.severities.includes(item.severity)) &&
      (!m.teams || anyGlob(m.teams, item.owner?.team)) &&
      (!m.agents || anyGlob(m.agents, item.agentId)) &&
      (!m.environments || anyGlob(m.environments, item.environment)) &&
      (!m.policies || policiesOf(item).some((p) => anyGlob(m.policies, p)));
    if (!ok) continue;
    for (const s of r.page) page.add(s);
    for (const s of r.digest) digest.add(s);
    if (!r.continue) break;
  }
  return { page: [...page], digest: [...digest] };
}

/**
 * The route of an item, a drill's included: a drill's item pages only on the sinks
 * `drills.alerts.page` lists, and goes to `drills.alerts.digest`, else to its own route's digest
 * sinks, else to every sink that is not PagerDuty. So a drill never pages by default.
 */
export function itemRoute(
  item: Pick<AlertItem, 'severity' | 'owner' | 'agentId' | 'environment' | 'policy' | 'policies' | 'drill'>,
  routes: readonly AlertRoute[],
  sinkTypes: ReadonlyMap<string, string>,
  drillRoute: DrillRoute | undefined,
): { page: string[]; digest: string[] } {
  const route = routeFor(item, routes, sinkTypes);
  if (!item.drill) return route;
  const nonPaging = [...sinkTypes.keys()].filter((n) => sinkTypes.get(n) !== 'pagerduty');
  const digest = drillRoute?.digest.length ? drillRoute.digest : route.digest.length ? route.digest : nonPaging;
  return { page: [...(drillRoute?.page ?? [])], digest: [...digest] };
}

export function planAlerts(input: PlanInput): AlertPlan {
  const { config, now, scanId } = input;
  const audit: PlanAudit[] = [];
  const notifications: Notification[] = [];
  const pagedAdd: [string, string[]][] = [];
  const pagedRemove: string[] = [];
  const digests = new Map<string, { sink: string; owner: string | null; items: AlertItem[] }>();
  const at = now.toISOString();

  for (const s of config.silences) {
    if (!silenceActive(s, now) && !input.alreadyExpiredSilences.has(s.id)) {
      audit.push({
        type: 'silence.expired',
        subject: s.id,
        data: { owner: s.owner, reason: s.reason, expires: s.expires },
      });
    }
  }
  for (const item of input.items) {
    const silence = config.silences.find((s) => silenceActive(s, now) && silenceMatches(s, item));
    if (silence) {
      audit.push({
        type: 'alert.silenced',
        subject: item.id,
        data: { silence: silence.id, owner: silence.owner, reason: silence.reason, fingerprint: item.fingerprint },
      });
      continue;
    }
    const parent = inhibitedBy(item, config.inhibit, input.findings);
    if (parent) {
      audit.push({
        type: 'alert.inhibited',
        subject: item.id,
        data: { fingerprint: item.fingerprint, parent: parent.fingerprint },
      });
      continue;
    }
    const wasPaged = input.paged.get(item.fingerprint);
    // A drift resolve, or a merged finding's, matters only where its trigger paged; it is not digest material.
    if ((item.policy === 'privilege-drift' || item.transition === 'merged') && item.action === 'resolve' && !wasPaged)
      continue;
    const route = itemRoute(item, config.routes, input.sinkTypes, input.drillRoute);
    const cls = input.pageClass.get(item.id) ?? null;
    const pageSinks =
      item.action === 'resolve' ? (wasPaged ?? []) : cls && config.paging.includes(cls as never) ? route.page : [];
    for (const sink of pageSinks) {
      notifications.push({
        id: msgId(scanId, 'page', sink, item.id),
        sink,
        mode: 'page',
        items: [item],
        group: { owner: item.owner?.team ?? null, scanId },
        createdAt: at,
      });
    }
    if (item.action === 'trigger' && pageSinks.length) pagedAdd.push([item.fingerprint, pageSinks]);
    if (item.action === 'resolve' && wasPaged) pagedRemove.push(item.fingerprint);
    if (pageSinks.length) continue;
    for (const sink of route.digest) {
      const team = item.owner?.team ?? null;
      const key = `${sink}\n${team ?? ''}`;
      const d = digests.get(key) ?? { sink, owner: team, items: [] };
      d.items.push(item);
      digests.set(key, d);
    }
  }
  for (const d of [...digests.values()].sort((a, b) => `${a.sink}${a.owner}`.localeCompare(`${b.sink}${b.owner}`))) {
    notifications.push({
      id: msgId(scanId, 'digest', d.sink, d.owner ?? ''),
      sink: d.sink,
      mode: 'digest',
      items: d.items,
      group: { owner: d.owner, scanId },
      createdAt: at,
    });
  }
  return { notifications, audit, pagedAdd, pagedRemove };
}
