/**
 * Pages name who holds the credential (issue 9 §2.3): a page for an admin agent key used to name
 * the key id and the agent, but not the IAM user, its ARN or the account's name, which on-call needs
 * first. The items now carry them (from the scanned credential, else from the finding), and the
 * PagerDuty summary and custom_details, the Slack header, section and context, and the webhook body
 * lead with them. A finding merged into another (one risk, one finding) resolves its page only where
 * it paged, and is never digest material.
 */
import { describe, expect, it } from 'vitest';
import { findingItems } from '../../src/alerts/items.js';
import { planAlerts } from '../../src/alerts/plan.js';
import { SinkConfigSchema } from '../../src/alerts/sinks/config.js';
import { pagerDutyEvent } from '../../src/alerts/sinks/pagerduty.sink.js';
import { slackMessage } from '../../src/alerts/sinks/slack.sink.js';
import { webhookBody } from '../../src/alerts/sinks/webhook.sink.js';
import type { AlertItem, Notification } from '../../src/alerts/types.js';
import type { Transition } from '../../src/findings/transitions.js';
import type { Finding } from '../../src/policy/model.js';
import { accessKey, agent, NOW } from '../support/credentials.js';

const ACCT = '123456789012';
const ARN = `arn:aws:iam::${ACCT}:user/agents/agent-deploy-1`;
const KEY = 'AKIAFAKEDEPLOY000001';
const cred = accessKey(KEY, { agentId: 'deploy-agent', principal: ARN }, 'agent-deploy-1');
const registry = {
  agents: [agent('deploy-agent')],
  unregistered: {
    aws: { tags: {}, namePatterns: [] },
    vault: { meta: [], displayNamePatterns: [], policyPatterns: [] },
  },
};
const FP = `agent-admin-equivalent:${cred.id}`;

const finding: Finding = {
  fingerprint: FP,
  policy: 'agent-admin-equivalent',
  policies: ['agent-admin-equivalent', 'cis-aws-no-full-admin'],
  riskKey: 'aws-admin',
  rules: ['aws-admin'],
  credentialId: cred.id,
  kind: 'aws-access-key',
  agentId: 'deploy-agent',
  owner: { team: 'platform', contact: 'platform-oncall@example.com' },
  severity: 'critical',
  state: 'open',
  message: 'An agent credential that can do anything: Allow * on *: full administrator',
  hits: [],
  controls: { 'cis-aws-v5': ['1.15'], 'owasp-nhi': ['NHI5'] },
  firstSeen: NOW.toISOString(),
  lastSeen: NOW.toISOString(),
  resolvedAt: null,
  reopened: 0,
  exceptionId: null,
};
const opened: Transition = { type: 'finding.opened', subject: FP, data: {} };
const ctx = (credentials = new Map([[cred.id, cred]])) => ({
  scanId: 'scan-1',
  now: NOW,
  credentials,
  registry,
  runbookUrl: undefined,
  accountNames: new Map([[ACCT, 'prod']]),
});

function page(item: AlertItem): Notification {
  return {
    id: 'msg_1',
    sink: 'pd',
    mode: 'page',
    items: [item],
    group: { owner: 'platform', scanId: 'scan-1' },
    createdAt: NOW.toISOString(),
  };
}

const pd = SinkConfigSchema.parse({ name: 'pd', type: 'pagerduty', routingKey: 'R0123456789abcdef0123456789ABCDE' });
if (pd.type !== 'pagerduty') throw new Error('not a pagerduty config');

describe('alert items name the principal', () => {
  it('should carry the IAM user, its ARN, the account and its configured name, and every policy', () => {
    const [item] = findingItems([opened], new Map([[FP, finding]]), ctx());
    expect(item).toMatchObject({
      principal: ARN,
      principalName: 'agent-deploy-1',
      principalType: 'iam-user',
      account: { id: ACCT, name: 'prod' },
      policies: ['agent-admin-equivalent', 'cis-aws-no-full-admin'],
      controls: { 'cis-aws-v5': ['1.15'], 'owasp-nhi': ['NHI5'] },
    });
  });

  it('should fall back to what the finding recorded when the credential is gone (a resolve)', () => {
    const stored: Finding = {
      ...finding,
      principal: ARN,
      principalName: 'agent-deploy-1',
      principalType: 'iam-user',
      account: { id: ACCT, name: 'prod' },
      source: ACCT,
    };
    const [item] = findingItems([{ ...opened, type: 'finding.resolved' }], new Map([[FP, stored]]), ctx(new Map()));
    expect(item).toMatchObject({ action: 'resolve', principal: ARN, account: { id: ACCT, name: 'prod' } });
  });

  it('PagerDuty: the summary leads with the user and the account; custom_details starts with them', () => {
    const [item] = findingItems([opened], new Map([[FP, finding]]), ctx());
    const e = pagerDutyEvent(item!, pd);
    expect(e.payload!.summary).toBe(
      `IAM user agent-deploy-1 in account prod (${ACCT}): An agent credential that can do anything: Allow * on *: full administrator`,
    );
    const details = e.payload!.custom_details;
    expect(Object.keys(details).slice(0, 4)).toEqual(['principal', 'principal_name', 'principal_type', 'account']);
    expect(details).toMatchObject({
      principal: ARN,
      principal_name: 'agent-deploy-1',
      account: `prod (${ACCT})`,
      agent: 'deploy-agent',
      credential: cred.id,
      policies: ['agent-admin-equivalent', 'cis-aws-no-full-admin'],
      controls: ['cis-aws-v5: 1.15', 'owasp-nhi: NHI5'],
    });
  });

  it('PagerDuty: a long title never pushes the holder out of the summary', () => {
    const [item] = findingItems([opened], new Map([[FP, { ...finding, message: 'x'.repeat(5000) }]]), ctx());
    const summary = pagerDutyEvent(item!, pd).payload!.summary;
    expect(summary).toHaveLength(1024);
    expect(summary.startsWith(`IAM user agent-deploy-1 in account prod (${ACCT}): x`)).toBe(true);
  });

  it('Slack: the header and the section name the user and the account, the context its ARN', () => {
    const [item] = findingItems([opened], new Map([[FP, finding]]), ctx());
    const msg = slackMessage(page(item!));
    const header = msg.blocks[0] as { text: { text: string } };
    expect(header.text.text).toMatch(/^CRITICAL: IAM user agent-deploy-1 in account prod \(123456789012\): An agent/);
    const section = msg.blocks.find((b) => b.type === 'section') as { text: { text: string } };
    expect(section.text.text.split('\n')[1]).toBe('IAM user `agent-deploy-1` in account `prod` (`123456789012`)');
    expect(section.text.text).toContain('Policy `agent-admin-equivalent` +1 more');
    const context = msg.blocks.find((b) => b.type === 'context') as { elements: { text: string }[] };
    expect(context.elements[0]!.text).toBe(`Principal \`${ARN}\``);
    expect(msg.text).toContain('IAM user agent-deploy-1 in account prod');
  });

  it('webhook: each item carries the principal, its name and the account', () => {
    const [item] = findingItems([opened], new Map([[FP, finding]]), ctx());
    const body = webhookBody(page(item!));
    expect(body.items[0]).toMatchObject({ principal: ARN, principalName: 'agent-deploy-1', account: { name: 'prod' } });
  });

  it('a Vault token is named by its display name and namespace, with no account', () => {
    const token = {
      ...cred,
      id: 'vault/main/root/token/acc-1',
      kind: 'vault-token' as const,
      sourceType: 'vault' as const,
      source: 'main/root',
      principal: 'token-deploy-agent',
      attributes: { displayName: 'token-deploy-agent' },
    };
    const fp = `agent-vault-sudo:${token.id}`;
    const [item] = findingItems(
      [{ ...opened, subject: fp }],
      new Map([[fp, { ...finding, fingerprint: fp, credentialId: token.id, kind: 'vault-token' }]]),
      ctx(new Map([[token.id, token]])),
    );
    expect(item).toMatchObject({ principal: 'token-deploy-agent', principalType: 'vault-token', account: null });
    expect(pagerDutyEvent(item!, pd).payload!.summary).toMatch(/^Vault token token-deploy-agent in main\/root: /);
  });
});

describe('a merged finding', () => {
  const merged: Finding = {
    ...finding,
    fingerprint: `cis-aws-no-full-admin:${cred.id}`,
    state: 'merged',
    mergedInto: FP,
  };
  const t: Transition = { type: 'finding.merged', subject: merged.fingerprint, data: { into: FP } };

  function plan(paged: Record<string, string[]>) {
    const items = findingItems([t], new Map([[merged.fingerprint, merged]]), ctx());
    return planAlerts({
      scanId: 'scan-1',
      now: NOW,
      items,
      pageClass: new Map(items.map((i) => [i.id, null])),
      findings: new Map([
        [FP, finding],
        [merged.fingerprint, merged],
      ]),
      config: { sinks: [], routes: [], paging: ['critical-privilege'], inhibit: [], silences: [] } as never,
      sinkTypes: new Map([
        ['pd', 'pagerduty'],
        ['slack', 'slack'],
      ]),
      paged: new Map(Object.entries(paged)),
      alreadyExpiredSilences: new Set(),
    });
  }

  it('should resolve the page it had open, under its own dedup key', () => {
    const p = plan({ [merged.fingerprint]: ['pd'] });
    expect(p.notifications.map((n) => [n.sink, n.mode, n.items[0]!.action, n.items[0]!.fingerprint])).toEqual([
      ['pd', 'page', 'resolve', merged.fingerprint],
    ]);
    expect(p.pagedRemove).toEqual([merged.fingerprint]);
    expect(p.notifications[0]!.items[0]!.title).toMatch(/^merged into agent-admin-equivalent:/);
  });

  it('should send nothing at all when it never paged (no digest noise)', () => {
    expect(plan({}).notifications).toEqual([]);
  });
});
