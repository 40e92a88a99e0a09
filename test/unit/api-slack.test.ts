// biome-ignore-all lint/suspicious/noTemplateCurlyInString: `${env:NAME}` is the config syntax under test, not a template.
/**
 * Slack interactive approvals, the pure parts (issue 12): the request signature (Slack's own
 * documented example included), the click payload, who a Slack user is, where answers may be
 * posted, the `api.slack` config, and the buttons on a held action's Slack message.
 */
import { describe, expect, it } from 'vitest';
import { SLACK_ACTIONS } from '../../src/alerts/sinks/slack.sink.js';
import {
  parseInteraction,
  SlackPayloadError,
  seenKey,
  signatureHash,
  slackActor,
  slackSignature,
  verifySlackRequest,
} from '../../src/api/slack.js';
import { responseUrlAllowed } from '../../src/api/slack-config.js';
import { CwError, ErrorCodes } from '../../src/errors.js';

const SECRET = 'a-signing-secret-for-tests-0123456789';
const TS = 1_760_000_000;
const at = (s: number) => new Date(s * 1000);
const BODY = 'payload=%7B%22type%22%3A%22block_actions%22%7D';
const signed = (o: { secret?: string; ts?: number | string; body?: string } = {}) =>
  slackSignature(o.secret ?? SECRET, String(o.ts ?? TS), o.body ?? BODY);
const verify = (o: { timestamp?: string | undefined; signature?: string | undefined; rawBody?: string; now?: Date }) =>
  verifySlackRequest({
    signingSecret: SECRET,
    timestamp: 'timestamp' in o ? o.timestamp : String(TS),
    signature: 'signature' in o ? o.signature : signed(),
    rawBody: o.rawBody ?? BODY,
    now: o.now ?? at(TS),
  });

describe('verifySlackRequest', () => {
  it('accepts a request signed with the secret over v0:<ts>:<body>', () => {
    expect(verify({})).toEqual({ ok: true });
    expect(signed()).toMatch(/^v0=[0-9a-f]{64}$/);
  });

  it("reproduces Slack's documented example (api.slack.com, Verifying requests from Slack)", () => {
    // The example of Slack's "Verifying requests from Slack" page: its placeholder secret, a slash
    // command's form body, and the signature the page gives for them.
    const body =
      'token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c';
    const expected = 'v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503';
    const secret = '8f742231b10e8888abcd99yyyzzz85a5';
    expect(slackSignature(secret, '1531420618', body)).toBe(expected);
    expect(
      verifySlackRequest({
        signingSecret: secret,
        timestamp: '1531420618',
        signature: expected,
        rawBody: body,
        now: at(1531420618),
      }),
    ).toEqual({ ok: true });
  });

  it.each([
    ['a wrong secret', { signature: signed({ secret: `${SECRET}x` }) }],
    ['a tampered body', { rawBody: BODY.replace('block_actions', 'block_actionz') }],
    ['a signature for another timestamp', { signature: signed({ ts: TS - 1 }) }],
    ['no v0= prefix', { signature: signed().slice(3) }],
    ['another version', { signature: `v1=${signed().slice(3)}` }],
    ['a shorter signature', { signature: signed().slice(0, -1) }],
    ['a longer signature', { signature: `${signed()}0` }],
    ['an empty one', { signature: '' }],
    ['none at all', { signature: undefined }],
    ['upper-case hex', { signature: `v0=${signed().slice(3).toUpperCase()}` }],
  ])('refuses %s as an invalid signature (no throw)', (_name, o) => {
    expect(verify(o)).toEqual({ ok: false, reason: 'invalid signature' });
  });

  it.each([
    ['301 s old', { now: at(TS + 301) }],
    ['301 s ahead', { now: at(TS - 301) }],
    ['not a number', { timestamp: 'soon', signature: signed({ ts: 'soon' }) }],
    ['a fraction', { timestamp: `${TS}.5`, signature: signed({ ts: `${TS}.5` }) }],
    ['negative', { timestamp: '-1', signature: signed({ ts: '-1' }) }],
    ['empty', { timestamp: '' }],
    ['absent', { timestamp: undefined }],
  ])('refuses a timestamp %s as stale, even when the signature matches', (_name, o) => {
    expect(verify(o)).toEqual({ ok: false, reason: 'stale timestamp' });
  });

  it('accepts exactly 300 s either way, counted in whole seconds', () => {
    expect(verify({ now: at(TS + 300) })).toEqual({ ok: true });
    expect(verify({ now: at(TS - 300) })).toEqual({ ok: true });
    expect(verify({ now: new Date((TS + 300) * 1000 + 999) })).toEqual({ ok: true });
    expect(verify({ now: new Date((TS + 301) * 1000) })).toEqual({ ok: false, reason: 'stale timestamp' });
  });

  it('keys replays by a hash of the signature, never the signature', () => {
    const sig = signed();
    expect(seenKey('P', sig)).toBe(`P:slack:seen:${signatureHash(sig)}`);
    expect(seenKey('P', sig)).not.toContain(sig.slice(3));
    expect(signatureHash(sig)).toMatch(/^[0-9a-f]{64}$/);
  });
});

const PLAN = `ap-${'0123456789abcdef'.repeat(2)}`;
const URL_ = 'https://hooks.slack.com/actions/T1/1/abc';
const click = (p: Record<string, unknown>) => `payload=${encodeURIComponent(JSON.stringify(p))}`;
const good = (over: Record<string, unknown> = {}) => ({
  type: 'block_actions',
  user: { id: 'U012AB3CD', username: 'alice' },
  actions: [{ action_id: SLACK_ACTIONS.approve, value: PLAN, type: 'button' }],
  response_url: URL_,
  ...over,
});

describe('parseInteraction', () => {
  it('reads the user, the decision, the plan id and the response_url of a button click', () => {
    expect(parseInteraction(click(good()))).toEqual({
      userId: 'U012AB3CD',
      decision: 'approve',
      planId: PLAN,
      responseUrl: URL_,
    });
    const deny = good({ actions: [{ action_id: SLACK_ACTIONS.deny, value: PLAN }, { action_id: 'x' }] });
    expect(parseInteraction(`token=t&${click(deny)}`).decision).toBe('deny');
    expect(parseInteraction(click(good({ user: { id: 'W0ENTERPRISE' } }))).userId).toBe('W0ENTERPRISE');
  });

  it.each([
    ['no payload field', 'token=t', 'no payload field'],
    ['an empty body', '', 'no payload field'],
    ['a payload that is not JSON', 'payload=%7Bnope', 'payload is not JSON'],
    ['a JSON array', click([] as never), 'payload is not an object'],
    ['a view submission', click(good({ type: 'view_submission' })), 'not a block_actions interaction'],
    ['no user', click(good({ user: undefined })), 'no Slack user id'],
    ['a user id that is not one', click(good({ user: { id: 'alice' } })), 'no Slack user id'],
    ['no actions', click(good({ actions: [] })), 'no action'],
    [
      'another app button',
      click(good({ actions: [{ action_id: 'other.approve', value: PLAN }] })),
      'not a credwarden button',
    ],
    [
      'a value that is not a plan id',
      click(good({ actions: [{ action_id: SLACK_ACTIONS.approve, value: '../x' }] })),
      'not a plan id',
    ],
    ['no value', click(good({ actions: [{ action_id: SLACK_ACTIONS.deny }] })), 'not a plan id'],
    ['no response_url', click(good({ response_url: undefined })), 'no response_url'],
  ])('refuses %s with a SlackPayloadError', (_name, body, message) => {
    let caught: unknown;
    try {
      parseInteraction(body);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(SlackPayloadError);
    expect(caught).toBeInstanceOf(CwError);
    expect((caught as CwError).code).toBe(ErrorCodes.INPUT);
    expect((caught as Error).message).toContain(message);
  });
});

describe('slackActor: the mapped subject and its api.tokens roles, read at click time', () => {
  const api = {
    slack: {
      signingSecret: SECRET,
      users: { UONCALL: 'oncall-a', UVIEW: 'viewer', UOIDC: 'idp-bob' },
      responseHosts: [],
    },
    tokens: [
      { subject: 'oncall-a', roles: ['oncall' as const] },
      { subject: 'viewer', roles: ['viewer' as const] },
    ],
  };
  it('maps a user whose subject may decide', () => {
    expect(slackActor(api, 'UONCALL')).toEqual({ ok: true, subject: 'oncall-a' });
  });
  it.each([
    ['an unmapped user', 'UNOBODY', 'unmapped', 'not mapped to a credwarden subject'],
    ['an inherited property name', 'constructor', 'unmapped', 'not mapped'],
    ['a subject without an api.tokens entry', 'UOIDC', 'no-roles', 'idp-bob has no api.tokens entry'],
    ['a viewer', 'UVIEW', 'forbidden', 'do not grant actions:decide'],
  ])('refuses %s', (_name, id, why, text) => {
    const a = slackActor(api, id);
    expect(a).toMatchObject({ ok: false, why });
    expect(a.ok ? '' : a.text).toContain(text);
  });
});

describe('responseUrlAllowed', () => {
  it.each([
    ['https://hooks.slack.com/actions/T/1/x', ['hooks.slack.com'], true],
    ['http://hooks.slack.com/actions/T/1/x', ['hooks.slack.com'], false],
    ['https://hooks.slack.com.evil.example/x', ['hooks.slack.com'], false],
    ['https://evil.example/hooks.slack.com', ['hooks.slack.com'], false],
    ['https://u:p@hooks.slack.com/x', ['hooks.slack.com'], false],
    ['http://127.0.0.1:9999/r', ['127.0.0.1'], true],
    ['http://127.0.0.1:9999/r', ['hooks.slack.com'], false],
    ['http://10.0.0.1/r', ['10.0.0.1'], false],
    ['not a url', ['hooks.slack.com'], false],
    ['ftp://hooks.slack.com/x', ['hooks.slack.com'], false],
  ])('%s with %j: %s', (url, hosts, ok) => {
    expect(responseUrlAllowed(url, hosts)).toBe(ok);
  });
});
