// biome-ignore-all lint/suspicious/noTemplateCurlyInString: `${env:NAME}` is the config syntax under test, not a template.
/**
 * Slack interactive approvals, the pure parts (issue 12): the request signature (Slack's own
 * documented example included), the click payload, who a Slack user is, where answers may be
 * posted, the `api.slack` config, and the buttons on a held action's Slack message.
 */
import { describe, expect, it } from 'vitest';
import { type SlackBlock, type SlackButton, SlackSink, slackMessage } from '../../src/alerts/sinks/slack.sink.js';
import type { AlertItem, Notification } from '../../src/alerts/types.js';
import { slackSignature, verifySlackRequest } from '../../src/api/slack.js';
import { loadConfigText } from '../../src/config/load.js';

const SECRET = 'a-signing-secret-for-tests-0123456789';
const TS = 1_760_000_000;
const at = (s: number) => new Date(s * 1000);
const BODY = 'payload=%7B%22type%22%3A%22block_actions%22%7D';
const signed = (o: { secret?: string; ts?: number | string; body?: string } = {}) =>
  slackSignature(o.secret ?? SECRET, String(o.ts ?? TS), o.body ?? BODY);
const _verify = (o: { timestamp?: string | undefined; signature?: string | undefined; rawBody?: string; now?: Date }) =>
  verifySlackRequest({
    signingSecret: SECRET,
    timestamp: 'timestamp' in o ? o.timestamp : String(TS),
    signature: 'signature' in o ? o.signature : signed(),
    rawBody: o.rawBody ?? BODY,
    now: o.now ?? at(TS),
  });

const PLAN = `ap-${'0123456789abcdef'.repeat(2)}`;

describe('the api.slack config section', () => {
  const FILE = '/srv/credwarden/credwarden.yaml';
  const HASH = `scrypt$16384$8$1$${'A'.repeat(22)}$${'B'.repeat(43)}`;
  const yaml = (slack: string[], more: string[] = []) =>
    [
      'api:',
      '  tokens:',
      `    - { subject: alice, roles: [oncall], hash: "${HASH}" }`,
      ...more,
      '  slack:',
      ...slack.map((l) => `    ${l}`),
      '',
    ].join('\n');
  const env = { CW_SLACK: SECRET };
  const load = (text: string) => loadConfigText(FILE, text, env);
  const refusal = (text: string) => {
    try {
      load(text);
    } catch (err) {
      return (err as Error).message;
    }
    return expect.fail('expected a refusal');
  };

  it('resolves the signing secret from the environment and defaults responseHosts', () => {
    const c = load(yaml(['signingSecret: ${env:CW_SLACK}', 'users: { U012AB3CD: alice }']));
    expect(c.api.slack).toEqual({
      signingSecret: SECRET,
      users: { U012AB3CD: 'alice' },
      responseHosts: ['hooks.slack.com'],
    });
    expect(load('').api.slack).toBeUndefined();
  });

  it('refuses a literal signing secret, with its key and without echoing it', () => {
    const m = refusal(yaml([`signingSecret: ${SECRET}`]));
    expect(m).toMatch(/api\.slack\.signingSecret: must be an \$\{env:NAME\} reference/);
    expect(m).not.toContain(SECRET);
  });

  it.each([
    ['no signing secret', ['users: {}'], 'api.slack.signingSecret: is required'],
    [
      'a user mapped to a subject no token has',
      ['signingSecret: ${env:CW_SLACK}', 'users: { U1AB: bob }'],
      'api.slack.users.U1AB: maps to bob, which is not an api.tokens subject',
    ],
    [
      'a key that is not a Slack user id',
      ['signingSecret: ${env:CW_SLACK}', 'users: { alice: alice }'],
      'api.slack.users',
    ],
    [
      'a response host with a scheme',
      ['signingSecret: ${env:CW_SLACK}', 'responseHosts: ["https://hooks.slack.com"]'],
      'api.slack.responseHosts[0]',
    ],
    ['an unknown key', ['signingSecret: ${env:CW_SLACK}', 'channel: C1'], 'api.slack'],
  ])('refuses %s', (_name, lines, message) => {
    expect(refusal(yaml(lines))).toContain(message);
  });

  it('accepts a subject outside api.tokens when api.oidc is set (it may be an IdP subject)', () => {
    const oidc = [
      '  oidc:',
      '    issuer: https://login.example.com/',
      '    jwksUrl: https://login.example.com/jwks.json',
      '    audience: credwarden',
      '    roleMap: { g: oncall }',
    ];
    const c = load(yaml(['signingSecret: ${env:CW_SLACK}', 'users: { U1AB: idp-bob }'], oidc));
    expect(c.api.slack?.users).toEqual({ U1AB: 'idp-bob' });
  });
});

const item = (over: Partial<AlertItem> = {}): AlertItem => ({
  id: 'approval:x',
  action: 'trigger',
  transition: 'approval-requested',
  fingerprint: 'p:c',
  title: 'quarantine awaits approval on aws/1/access-key/AKIA',
  severity: 'high',
  policy: 'p',
  rules: [],
  detector: null,
  credentialId: 'aws/1/access-key/AKIA',
  kind: 'aws-access-key',
  source: '1',
  agentId: null,
  owner: null,
  environment: null,
  evidence: [],
  tags: {},
  runbookUrl: null,
  scanId: 's1',
  at: '2026-01-01T00:00:00.000Z',
  remediation: {
    planId: PLAN,
    action: 'quarantine',
    attempt: 0,
    outcome: 'awaiting-approval',
    detail: 'approval required',
  },
  ...over,
});
const note = (items: AlertItem[]): Notification => ({
  id: 'msg_1',
  sink: 'slack',
  mode: 'change',
  items,
  group: { owner: null, scanId: 's1' },
  createdAt: '2026-01-01T00:00:00.000Z',
});
const actionsOf = (blocks: SlackBlock[]) =>
  blocks.filter((b): b is Extract<SlackBlock, { type: 'actions' }> => b.type === 'actions');

describe('Approve and Deny on a held action’s Slack message', () => {
  it('adds both buttons with the plan id when api.slack is set, and none otherwise', () => {
    const [actions, ...more] = actionsOf(slackMessage(note([item()]), { approvalButtons: true }).blocks);
    expect(more).toEqual([]);
    const [approve, deny] = actions!.elements as [SlackButton, SlackButton];
    expect(approve).toMatchObject({ action_id: 'credwarden.approve', style: 'primary', value: PLAN });
    expect(deny).toMatchObject({ action_id: 'credwarden.deny', style: 'danger', value: PLAN });
    expect(deny.confirm).toMatchObject({ confirm: { text: 'Deny' }, deny: { text: 'Cancel' }, style: 'danger' });
    expect(deny.confirm!.text.text.length).toBeLessThanOrEqual(300);
    expect(approve.confirm).toBeUndefined();
    expect(actionsOf(slackMessage(note([item()])).blocks)).toEqual([]);
  });

  it('puts no buttons on other remediation items, and keeps a long digest within 50 blocks', () => {
    const done = item({ transition: 'action-done', remediation: { ...item().remediation!, outcome: 'done' } });
    expect(actionsOf(slackMessage(note([done]), { approvalButtons: true }).blocks)).toEqual([]);
    const many = slackMessage(note(Array.from({ length: 30 }, () => item())), { approvalButtons: true });
    expect(many.blocks.length).toBeLessThanOrEqual(50);
    expect(many.blocks.at(-1)).toMatchObject({ type: 'section' });
  });

  it('is what the sink sends when built with approvalButtons', async () => {
    const sent: string[] = [];
    const fetchImpl = (async (_url: string, init: RequestInit) => {
      sent.push(String(init.body));
      return new Response('ok', { status: 200 });
    }) as typeof fetch;
    const cfg = {
      name: 'slack',
      type: 'slack' as const,
      webhookUrl: 'https://hooks.slack.com/services/T/B/x',
      timeoutMs: 1000,
      rateLimit: { max: 1, perSeconds: 1 },
    };
    await new SlackSink(cfg, fetchImpl, { approvalButtons: true }).send(note([item()]));
    await new SlackSink(cfg, fetchImpl).send(note([item()]));
    expect(sent.map((b) => actionsOf(JSON.parse(b).blocks).length)).toEqual([1, 0]);
  });
});
