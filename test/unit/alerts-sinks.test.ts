/**
 * The alert sinks against local receivers that check what the vendors document (PagerDuty Events
 * API v2, Slack Block Kit limits, Standard Webhooks verification written independently of
 * src/alerts/sign.ts), plus sink config and HTTP result classification.
 */
import { createServer, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { type PagerDutySinkConfig, SECRET_SINK_FIELDS, SinkConfigSchema } from '../../src/alerts/sinks/config.js';
import { postJson } from '../../src/alerts/sinks/http.js';
import { createSink } from '../../src/alerts/sinks/index.js';
import { pagerDutyChangeEvent, pagerDutyEvent } from '../../src/alerts/sinks/pagerduty.sink.js';
import type { SlackMessage } from '../../src/alerts/sinks/slack.sink.js';
import type { AlertItem, Notification } from '../../src/alerts/types.js';
import { startPagerDutyReceiver } from '../support/receivers/pagerduty.js';
import type { Received, Receiver } from '../support/receivers/server.js';
import { startSlackReceiver } from '../support/receivers/slack.js';
import { startWebhookReceiver } from '../support/receivers/webhook.js';

const ROUTING_KEY = 'R0123456789abcdef0123456789ABCDE';
const RLO = '\u202E';
// biome-ignore lint/suspicious/noControlCharactersInRegex: the check looks for exactly these characters.
const CONTROLS = /[\u0000-\u0008\u000B-\u001F\u007F-\u009F]/;
const INVISIBLE = /[\u200B-\u200F\u202A-\u202E\u2066-\u2069]/;
const HOSTILE = `<!channel> *bold* <https://evil.example|click> ${'x'.repeat(10_240)}\u0000\u0007\u001B[31m${RLO}gpj.exe`;
const OLD_SECRET = `whsec_${Buffer.alloc(32, 1).toString('base64')}`;
const NEW_SECRET = `whsec_${Buffer.alloc(32, 2).toString('base64')}`;
const NOW = new Date('2026-11-01T12:00:00Z');

const open: Receiver<Received>[] = [];
async function track<R extends Received>(r: Promise<Receiver<R>>): Promise<Receiver<R>> {
  const receiver = await r;
  open.push(receiver as unknown as Receiver<Received>);
  return receiver;
}
afterEach(async () => {
  await Promise.all(open.splice(0).map((r) => r.close()));
});

function item(over: Partial<AlertItem> = {}): AlertItem {
  const fingerprint = over.fingerprint ?? 'aws-admin:aws:111122223333:user/deploy-bot';
  return {
    id: `opened:${fingerprint}`,
    action: 'trigger',
    transition: 'opened',
    fingerprint,
    title: 'Agent credential has administrator access',
    severity: 'high',
    policy: 'aws-admin',
    rules: ['aws-admin'],
    detector: null,
    credentialId: 'aws:111122223333:user/deploy-bot',
    kind: 'aws-iam-user',
    source: 'aws:111122223333',
    agentId: 'deploy-bot',
    owner: { team: 'platform', contact: '#platform-oncall' },
    environment: 'prod',
    evidence: [{ label: 'policy', value: 'AdministratorAccess' }],
    tags: { team: 'platform' },
    runbookUrl: null,
    scanId: 'scan-2026-11-01',
    at: '2026-11-01T11:59:00.000Z',
    ...over,
  };
}

function notification(items: AlertItem[], over: Partial<Notification> = {}): Notification {
  return {
    id: 'ntf_01HX2Y3Z',
    sink: 'test',
    mode: items.length === 1 ? 'page' : 'digest',
    items,
    group: { owner: 'platform', scanId: 'scan-2026-11-01' },
    createdAt: NOW.toISOString(),
    ...over,
  };
}

function pdConfig(url: string, over: Record<string, unknown> = {}): PagerDutySinkConfig {
  const cfg = SinkConfigSchema.parse({ name: 'pd', type: 'pagerduty', routingKey: ROUTING_KEY, url, ...over });
  if (cfg.type !== 'pagerduty') throw new Error('not a pagerduty config');
  return cfg;
}

describe('sink config', () => {
  it('should fill the documented PagerDuty defaults', () => {
    const cfg = SinkConfigSchema.parse({ name: 'pd-main', type: 'pagerduty', routingKey: ROUTING_KEY });
    expect(cfg).toMatchObject({
      url: 'https://events.pagerduty.com/v2/enqueue',
      severityMap: { critical: 'critical', high: 'error', medium: 'warning', low: 'info', info: 'info' },
      source: 'credwarden',
      timeoutMs: 10_000,
      rateLimit: { max: 60, perSeconds: 60 },
    });
  });

  it('should keep the other severity defaults when one is overridden', () => {
    const cfg = pdConfig('https://pd.example/v2/enqueue', { severityMap: { high: 'critical' } });
    expect(cfg.severityMap).toEqual({
      critical: 'critical',
      high: 'critical',
      medium: 'warning',
      low: 'info',
      info: 'info',
    });
  });

  it.each([
    ['an unknown field', { name: 'pd', type: 'pagerduty', routingKey: ROUTING_KEY, colour: 'red' }],
    ['a short routing key', { name: 'pd', type: 'pagerduty', routingKey: 'short-secret-value' }],
    ['a bad name', { name: 'PD_Main', type: 'pagerduty', routingKey: ROUTING_KEY }],
    ['an unknown type', { name: 'x', type: 'email', url: 'https://x' }],
    ['a Slack sink without a URL', { name: 's', type: 'slack' }],
    ['a webhook without secrets', { name: 'w', type: 'webhook', url: 'https://x', secrets: [] }],
  ])('should reject %s', (_what, input) => {
    expect(SinkConfigSchema.safeParse(input).success).toBe(false);
  });

  it('should reject a webhook secret under 24 bytes, saying so without echoing it', () => {
    const weak = `whsec_${Buffer.from('sixteen-byte-key').toString('base64')}`;
    const r = SinkConfigSchema.safeParse({ name: 'w', type: 'webhook', url: 'https://x.example', secrets: [weak] });
    expect(r.success).toBe(false);
    const text = JSON.stringify(r.error?.issues);
    expect(text).toContain('24 bytes');
    expect(text).not.toContain(weak.slice(6));
  });

  it('should not echo a rejected routing key', () => {
    const r = SinkConfigSchema.safeParse({
      name: 'pd',
      type: 'pagerduty',
      routingKey: 'secret-value-but-31-characters!',
    });
    expect(JSON.stringify(r.error?.issues)).not.toContain('secret-value');
  });

  it('should name the secret fields the config loader must see as env refs', () => {
    expect(SECRET_SINK_FIELDS).toEqual(['routingKey', 'webhookUrl', 'secrets']);
  });

  it('should build the sink its type names', () => {
    const sinks = [
      { name: 'a', type: 'pagerduty', routingKey: ROUTING_KEY },
      { name: 'b', type: 'slack', webhookUrl: 'https://hooks.slack.com/services/T/B/x' },
      { name: 'c', type: 'webhook', url: 'https://x.example', secrets: [NEW_SECRET] },
    ].map((c) => createSink(SinkConfigSchema.parse(c)));
    expect(sinks.map((s) => [s.name, s.type])).toEqual([
      ['a', 'pagerduty'],
      ['b', 'slack'],
      ['c', 'webhook'],
    ]);
  });
});

describe('PagerDuty sink', () => {
  it('should trigger and resolve with the same dedup_key, both valid per the Events API v2 docs', async () => {
    const pd = await track(startPagerDutyReceiver());
    const sink = createSink(pdConfig(`${pd.url}/v2/enqueue`));
    const opened = await sink.send(notification([item()]));
    const resolved = await sink.send(notification([item({ action: 'resolve', transition: 'resolved' })]));
    expect(opened).toMatchObject({ ok: true, status: 202, retryable: false });
    expect(resolved).toMatchObject({ ok: true, status: 202 });
    expect(pd.requests.map((r) => [r.valid, r.errors])).toEqual([
      [true, []],
      [true, []],
    ]);
    const [trigger, resolve] = pd.requests.map((r) => r.json as Record<string, unknown>);
    expect(trigger?.dedup_key).toBe('aws-admin:aws:111122223333:user/deploy-bot');
    expect(resolve?.dedup_key).toBe(trigger?.dedup_key);
    expect(Object.keys(resolve ?? {}).sort()).toEqual(['dedup_key', 'event_action', 'routing_key']);
    expect(trigger).toMatchObject({
      event_action: 'trigger',
      payload: {
        summary: 'Agent credential has administrator access',
        source: 'credwarden',
        severity: 'error',
        timestamp: '2026-11-01T11:59:00.000Z',
        component: 'aws-admin',
        group: 'deploy-bot',
        class: 'aws-admin',
        custom_details: {
          credential: 'aws:111122223333:user/deploy-bot',
          transition: 'opened',
          scan: 'scan-2026-11-01',
        },
      },
    });
    expect(pd.requests[0]?.headers['content-type']).toBe('application/json');
  });

  it('should trim the summary to 1024 characters and hash an over-long fingerprint', async () => {
    const pd = await track(startPagerDutyReceiver());
    const sink = createSink(pdConfig(`${pd.url}/v2/enqueue`));
    const long = item({ title: `T${'t'.repeat(5000)}`, fingerprint: `p:${'c'.repeat(400)}` });
    expect(await sink.send(notification([long]))).toMatchObject({ ok: true, status: 202 });
    const event = pd.requests[0]?.json as { dedup_key: string; payload: { summary: string } };
    expect(pd.requests[0]?.valid).toBe(true);
    expect(event.payload.summary).toHaveLength(1024);
    expect(event.payload.summary.endsWith('…')).toBe(true);
    expect(event.dedup_key).toMatch(/^sha256:[0-9a-f]{64}$/);
  });

  it('should sanitise a hostile tag and title: no control or bidi characters, bounded', async () => {
    const pd = await track(startPagerDutyReceiver());
    const sink = createSink(pdConfig(`${pd.url}/v2/enqueue`));
    await sink.send(
      notification([item({ title: HOSTILE, tags: { note: HOSTILE }, evidence: [{ label: 'x', value: HOSTILE }] })]),
    );
    expect(pd.requests[0]?.valid).toBe(true);
    const event = pd.requests[0]?.json as { payload: { summary: string; custom_details: Record<string, unknown> } };
    const tag = (event.payload.custom_details.tags as Record<string, string>).note ?? '';
    for (const s of [event.payload.summary, tag, JSON.stringify(event.payload.custom_details.evidence)]) {
      expect(s).not.toMatch(CONTROLS);
      expect(s).not.toMatch(INVISIBLE);
    }
    expect(tag.length).toBeLessThanOrEqual(255);
    expect(tag.startsWith('<!channel> *bold*')).toBe(true);
    expect(pd.requests[0]?.rawBody.length).toBeLessThan(16_000);
  });

  it('should map severities through severityMap and attach the runbook with placeholders filled', () => {
    const cfg = pdConfig('https://pd.example/v2/enqueue', {
      severityMap: { medium: 'error' },
      runbookUrl: 'https://runbooks.example/{policy}?f={fingerprint}',
    });
    const e = pagerDutyEvent(item({ severity: 'medium', fingerprint: 'aws-admin:a/b c' }), cfg);
    expect(e.payload?.severity).toBe('error');
    expect(e.links).toEqual([{ href: 'https://runbooks.example/aws-admin?f=aws-admin%3Aa%2Fb%20c', text: 'Runbook' }]);
    expect(pagerDutyEvent(item({ agentId: null }), cfg).payload?.group).toBe('unattributed');
    expect(pagerDutyEvent(item({ detector: 'gitleaks' }), cfg).payload?.class).toBe('gitleaks');
  });

  it('should stop at the first failure and return it', async () => {
    const pd = await track(startPagerDutyReceiver());
    pd.respondWith([500]);
    const sink = createSink(pdConfig(`${pd.url}/v2/enqueue`));
    const r = await sink.send(notification([item(), item({ fingerprint: 'p:other' })]));
    expect(r).toMatchObject({ ok: false, status: 500, retryable: true });
    expect(pd.requests).toHaveLength(1);
  });

  it('should return the last success when every event is accepted', async () => {
    const pd = await track(startPagerDutyReceiver());
    const sink = createSink(pdConfig(`${pd.url}/v2/enqueue`));
    const r = await sink.send(notification([item(), item({ fingerprint: 'p:other' })], { mode: 'digest' }));
    expect(r).toMatchObject({ ok: true, status: 202 });
    expect(r.detail).toContain('p:other');
    expect(pd.requests).toHaveLength(2);
  });

  it('should never put the routing key in detail, even when the receiver echoes it', async () => {
    const pd = await track(startPagerDutyReceiver());
    pd.respondWith((req) => ({ status: 400, body: { status: 'invalid event', errors: [req.rawBody] } }));
    const r = await createSink(pdConfig(`${pd.url}/v2/enqueue`)).send(notification([item()]));
    expect(r).toMatchObject({ ok: false, status: 400, retryable: false });
    expect(r.detail).not.toContain(ROUTING_KEY);
  });

  it('should build a change event that the change endpoint accepts', async () => {
    const pd = await track(startPagerDutyReceiver());
    const event = pagerDutyChangeEvent({
      routingKey: ROUTING_KEY,
      summary: `Credential rotated: deploy-bot\u0000${RLO}`,
      source: 'credwarden',
      timestamp: '2026-11-01T12:00:00Z',
      customDetails: { credential: 'aws:111122223333:user/deploy-bot' },
      links: [{ href: 'https://runbooks.example/rotate', text: 'Runbook' }],
    });
    expect(event).toEqual({
      routing_key: ROUTING_KEY,
      payload: {
        summary: 'Credential rotated: deploy-bot',
        source: 'credwarden',
        timestamp: '2026-11-01T12:00:00Z',
        custom_details: { credential: 'aws:111122223333:user/deploy-bot' },
      },
      links: [{ href: 'https://runbooks.example/rotate', text: 'Runbook' }],
    });
    const r = await postJson(`${pd.url}/v2/change/enqueue`, {}, JSON.stringify(event), 5000);
    expect(r).toMatchObject({ ok: true, status: 202 });
    expect(pd.requests[0]).toMatchObject({ valid: true, errors: [] });
  });

  it('should be caught by the receiver when an event breaks the documented schema', async () => {
    const pd = await track(startPagerDutyReceiver());
    const bad = { routing_key: 'short', event_action: 'trigger', payload: { summary: '', severity: 'high' } };
    const r = await postJson(`${pd.url}/v2/enqueue`, {}, JSON.stringify(bad), 5000);
    expect(r).toMatchObject({ ok: false, status: 400, retryable: false });
    expect(pd.requests[0]?.errors.length).toBeGreaterThanOrEqual(4);
  });
});

describe('Slack sink', () => {
  const slackSink = (url: string) => createSink(SinkConfigSchema.parse({ name: 'sl', type: 'slack', webhookUrl: url }));
  const secretPath = '/services/T0SECRET/B0SECRET/abcdefSECRETtoken123';

  it('should deliver a hostile tag escaped and trimmed: no ping, link, bold or control character forms', async () => {
    const slack = await track(startSlackReceiver());
    const r = await slackSink(`${slack.url}${secretPath}`).send(
      notification([item({ title: HOSTILE, tags: { note: HOSTILE }, evidence: [{ label: HOSTILE, value: HOSTILE }] })]),
    );
    expect(r).toMatchObject({ ok: true, status: 200 });
    const req = slack.requests[0];
    expect(req?.errors).toEqual([]);
    const msg = req?.json as SlackMessage;
    const texts = [msg.text, ...msg.blocks.flatMap(blockTexts)];
    for (const t of texts) {
      // No runbook is configured, so no `<` or `>` may reach Slack at all.
      expect(t).not.toMatch(/[<>]/);
      expect(t).not.toMatch(CONTROLS);
      expect(t).not.toMatch(INVISIBLE);
    }
    const section = msg.blocks.find((b) => b.type === 'section');
    const text = section?.type === 'section' ? section.text.text : '';
    expect(text).toContain('&lt;!channel&gt;');
    // In a code span mrkdwn does not format, so the tag shows as written, escaped and cut at 60.
    expect(text).toContain('Tags `note=&lt;!channel&gt; *bold* &lt;https://evil.example|click…`');
    // Outside code spans no formatting marker survives: the title cannot bold itself.
    expect(text.replace(/`[^`]*`/g, '')).not.toContain('*bold*');
    expect(text).toContain('∗bold∗');
    expect(text.length).toBeLessThanOrEqual(3000);
    const header = msg.blocks[0];
    expect(header?.type === 'header' && header.text.text.length).toBeLessThanOrEqual(150);
  });

  it('should never exceed 50 blocks and count the rest exactly (200 items)', async () => {
    const slack = await track(startSlackReceiver());
    const items = Array.from({ length: 200 }, (_, i) => item({ fingerprint: `p:c${i}`, title: `finding ${i}` }));
    const r = await slackSink(`${slack.url}${secretPath}`).send(notification(items));
    expect(r.ok).toBe(true);
    const msg = slack.requests[0]?.json as SlackMessage;
    expect(slack.requests[0]?.valid).toBe(true);
    expect(msg.blocks.length).toBeLessThanOrEqual(50);
    const { shown, more } = summarise(msg);
    expect(more).toBe(200 - shown);
    expect(shown).toBeGreaterThan(10);
    expect(msg.blocks[0]).toMatchObject({ type: 'header', text: { text: 'credwarden: 200 findings for platform' } });
  });

  it('should account for every item at each size around the 50-block limit', async () => {
    const { slackMessage } = await import('../../src/alerts/sinks/slack.sink.js');
    for (let n = 1; n <= 60; n++) {
      const msg = slackMessage(
        notification(
          Array.from({ length: n }, (_, i) => item({ title: `f${i}` })),
          { mode: 'digest' },
        ),
      );
      const { shown, more } = summarise(msg);
      expect(msg.blocks.length).toBeLessThanOrEqual(50);
      expect(shown + more).toBe(n);
      if (n <= 16) expect(more).toBe(0);
    }
    const last = slackMessage(
      notification(
        Array.from({ length: 17 }, () => item()),
        { mode: 'digest' },
      ),
    ).blocks.at(-1);
    expect(last).toMatchObject({ type: 'section', text: { text: '…and 1 more finding' } });
  });

  it('should show resolved items as resolved', async () => {
    const { slackMessage } = await import('../../src/alerts/sinks/slack.sink.js');
    const msg = slackMessage(notification([item({ action: 'resolve', transition: 'resolved' })]));
    expect(msg.blocks[0]).toMatchObject({
      type: 'header',
      text: { text: 'RESOLVED: Agent credential has administrator access' },
    });
    expect(blockTexts(msg.blocks[1]!).join()).toContain('*RESOLVED* (was high)');
    expect(msg.text.startsWith('RESOLVED: ')).toBe(true);
  });

  it('should never put the webhook URL or its path in detail', async () => {
    const slack = await track(startSlackReceiver());
    slack.respondWith((req) => ({ status: 404, body: `no_service for ${req.path} at ${slack.url}${req.path}` }));
    const r = await slackSink(`${slack.url}${secretPath}`).send(notification([item()]));
    expect(r).toMatchObject({ ok: false, status: 404, retryable: false });
    for (const part of ['T0SECRET', 'B0SECRET', 'abcdefSECRETtoken123', secretPath])
      expect(r.detail).not.toContain(part);

    const refused = await closedUrl();
    const r2 = await slackSink(`${refused}${secretPath}`).send(notification([item()]));
    expect(r2).toMatchObject({ ok: false, status: null, retryable: true });
    expect(r2.detail).not.toContain('SECRET');
  });
});

describe('webhook sink', () => {
  const webhookSink = (url: string, secrets: string[], now: () => Date = () => NOW) =>
    createSink(SinkConfigSchema.parse({ name: 'wh', type: 'webhook', url, secrets }), { now });

  it('should be verified by an independent verifier holding only the new secret, or only the old', async () => {
    for (const held of [[NEW_SECRET], [OLD_SECRET]]) {
      const rx = await track(startWebhookReceiver({ secrets: held, now: () => NOW }));
      const r = await webhookSink(`${rx.url}/hook`, [OLD_SECRET, NEW_SECRET]).send(notification([item()]));
      expect(r).toMatchObject({ ok: true, status: 204 });
      expect(rx.requests[0]).toMatchObject({ verified: true, reason: 'ok' });
      const h = rx.requests[0]?.headers ?? {};
      expect(h['webhook-id']).toBe('ntf_01HX2Y3Z');
      expect(h['webhook-timestamp']).toBe(String(NOW.getTime() / 1000));
      expect(String(h['webhook-signature']).split(' ')).toHaveLength(2);
      expect(h['content-type']).toBe('application/json');
    }
  });

  it('should be rejected by a verifier holding another secret, without retrying', async () => {
    const rx = await track(startWebhookReceiver({ secrets: [`whsec_${Buffer.alloc(32, 9).toString('base64')}`] }));
    const r = await webhookSink(`${rx.url}/hook`, [NEW_SECRET], () => new Date()).send(notification([item()]));
    expect(rx.requests[0]).toMatchObject({ verified: false, reason: 'no matching signature' });
    expect(r).toMatchObject({ ok: false, status: 401, retryable: false });
  });

  it('should be rejected when its timestamp is outside the 5-minute window', async () => {
    const rx = await track(startWebhookReceiver({ secrets: [NEW_SECRET], now: () => NOW }));
    const stale = () => new Date(NOW.getTime() - 6 * 60_000);
    await webhookSink(`${rx.url}/hook`, [NEW_SECRET], stale).send(notification([item()]));
    expect(rx.requests[0]).toMatchObject({ verified: false, reason: 'timestamp too old' });
  });

  it('should send the documented body with untrusted strings sanitised', async () => {
    const rx = await track(startWebhookReceiver({ secrets: [NEW_SECRET], now: () => NOW }));
    await webhookSink(`${rx.url}/hook`, [NEW_SECRET]).send(notification([item({ tags: { note: HOSTILE } })]));
    const body = rx.requests[0]?.json as Record<string, unknown> & { items: AlertItem[] };
    expect(Object.keys(body)).toEqual(['type', 'id', 'mode', 'group', 'createdAt', 'items']);
    expect(body).toMatchObject({
      type: 'credwarden.alert',
      id: 'ntf_01HX2Y3Z',
      mode: 'page',
      createdAt: NOW.toISOString(),
    });
    const note = body.items[0]?.tags.note ?? '';
    expect(note).not.toMatch(CONTROLS);
    expect(note).not.toMatch(INVISIBLE);
    expect(note.startsWith('<!channel> *bold* <https://evil.example|click> x')).toBe(true);
    expect(body.items[0]).toMatchObject({ ...item(), tags: { note } });
  });

  it('should refuse, unsent and not retryable, a notification id the spec forbids', async () => {
    const rx = await track(startWebhookReceiver({ secrets: [NEW_SECRET] }));
    const r = await webhookSink(`${rx.url}/hook`, [NEW_SECRET]).send(notification([item()], { id: 'a.b' }));
    expect(r).toMatchObject({ ok: false, status: null, retryable: false });
    expect(rx.requests).toHaveLength(0);
  });

  it('should keep signatures out of detail when the receiver echoes the headers', async () => {
    const rx = await track(startWebhookReceiver({ secrets: [NEW_SECRET], now: () => NOW }));
    rx.respondWith((req) => ({ status: 500, body: JSON.stringify(req.headers) }));
    const r = await webhookSink(`${rx.url}/hook`, [NEW_SECRET]).send(notification([item()]));
    const sig = String(rx.requests[0]?.headers['webhook-signature']);
    expect(r).toMatchObject({ ok: false, status: 500, retryable: true });
    expect(r.detail).not.toContain(sig.slice(3, 20));
  });
});

describe('postJson classification', () => {
  it.each([
    [200, true, false],
    [202, true, false],
    [204, true, false],
    [302, false, false],
    [400, false, false],
    [401, false, false],
    [404, false, false],
    [410, false, false],
    [429, false, true],
    [500, false, true],
    [502, false, true],
    [503, false, true],
  ])('should classify HTTP %i as ok=%s retryable=%s', async (status, ok, retryable) => {
    const rx = await track(startSlackReceiver());
    rx.respondWith([status]);
    const r = await postJson(`${rx.url}/x`, {}, '{"text":"t"}', 5000);
    expect(r).toMatchObject({ ok, retryable, status });
    expect(r.detail.startsWith(`HTTP ${status}`)).toBe(true);
  });

  it('should call a refused connection retryable with status null', async () => {
    const r = await postJson(await closedUrl(), {}, '{}', 5000);
    expect(r).toEqual({ ok: false, status: null, retryable: true, detail: 'network error: ECONNREFUSED' });
  });

  it('should refuse an unparseable URL, not retryable, without echoing it', async () => {
    const r = await postJson('hooks.slack.com/services/T0/B0/SECRETtoken', {}, '{}', 5000);
    expect(r).toEqual({ ok: false, status: null, retryable: false, detail: 'not sent: invalid URL' });
  });

  it('should call a timeout retryable with status null', async () => {
    const sockets: Socket[] = [];
    const silent: Server = createServer((s) => sockets.push(s));
    await new Promise<void>((res) => silent.listen(0, '127.0.0.1', res));
    try {
      const port = (silent.address() as { port: number }).port;
      const r = await postJson(`http://127.0.0.1:${port}/`, {}, '{}', 200);
      expect(r).toEqual({ ok: false, status: null, retryable: true, detail: 'no response within 200 ms' });
    } finally {
      for (const s of sockets) s.destroy();
      await new Promise<void>((res) => silent.close(() => res()));
    }
  });

  it('should bound detail to the status and 200 characters of a text body', async () => {
    const rx = await track(startSlackReceiver());
    rx.respondWith(() => ({ status: 500, body: `${'e'.repeat(10_000)}\u0000${RLO}` }));
    const r = await postJson(`${rx.url}/x`, {}, '{}', 5000);
    expect(r.detail.length).toBeLessThanOrEqual('HTTP 500: '.length + 200);
    rx.respondWith(() => ({ status: 500, body: 'binary', contentType: 'application/octet-stream' }));
    expect((await postJson(`${rx.url}/x`, {}, '{}', 5000)).detail).toBe('HTTP 500: (application/octet-stream body)');
  });
});

/** A URL on which nothing listens: a receiver started and closed again. */
async function closedUrl(): Promise<string> {
  const rx = await startSlackReceiver();
  await rx.close();
  return rx.url;
}

function blockTexts(b: SlackMessage['blocks'][number]): string[] {
  if (b.type === 'header' || b.type === 'section') return [b.text.text];
  if (b.type === 'context') return b.elements.map((e) => e.text);
  return [];
}

function summarise(msg: SlackMessage): { shown: number; more: number } {
  const sections = msg.blocks.filter((b) => b.type === 'section').map((b) => blockTexts(b)[0] ?? '');
  const overflow = sections.find((t) => t.startsWith('…and '));
  const more = overflow ? Number(/^…and (\d+) more findings?$/.exec(overflow)?.[1]) : 0;
  return { shown: sections.length - (overflow ? 1 : 0), more };
}
