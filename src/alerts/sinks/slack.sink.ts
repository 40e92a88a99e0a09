/**
 * Slack incoming webhook, Block Kit message.
 *
 * Contract:
 * - a header (plain_text ≤ 150): the page's severity, who holds the credential and the title, or
 *   "credwarden: N findings for <owner>" for a digest; then per item a section (mrkdwn ≤ 3000)
 *   whose second line names the holder (IAM user or role, account by name and id) and a context
 *   line (with the principal's ARN), items separated by dividers; resolved items say RESOLVED;
 * - never more than Slack's 50 blocks: items that do not fit are counted, exactly, in a final
 *   "…and N more findings" section;
 * - every untrusted string is escaped for where it lands (see escape.ts): no `<!channel>`, link,
 *   mention, bold or strike-through can be injected, and mrkdwn objects are `verbatim` so Slack
 *   does not auto-link bare URLs or #channel names in them either;
 * - the top-level `text` is the escaped plain fallback (notifications, screen readers), ≤ 3000;
 * - the webhook URL is the secret: it never appears in a result's detail;
 * - remediation notices (remediation-notices.ts: one item, mode digest or change, or a page for a
 *   held batch) are rendered like digest lines, labelled by outcome (DONE, FAILED, CANCELLED,
 *   HELD, BATCH HELD, AWAITING APPROVAL) instead of severity, under "credwarden: remediation update
 *   for <owner>";
 * - an item awaiting approval, when the sink is built with `approvalButtons` (`api.slack` is set),
 *   is followed by an actions block: Approve (`credwarden.approve`, primary) and Deny
 *   (`credwarden.deny`, danger, behind a confirm dialog), each with the plan id as its value; the
 *   click comes back to POST /slack/interactions (api/slack.ts). It counts against the 50 blocks.
 */

import { principalNoun } from '../../model/principal.js';
import { ELLIPSIS, oneLine, slackCode, slackEscape, slackLiteral, slackPlain, trimEscaped, trimTo } from '../escape.js';
import { holderLine } from '../holder.js';
import type { AlertItem, Notification, Sink, SinkResult } from '../types.js';
import type { SlackSinkConfig } from './config.js';
import { isHttpUrl, postJson } from './http.js';

export const SLACK_MAX_BLOCKS = 50;
export const SLACK_SECTION_MAX = 3000;
export const SLACK_HEADER_MAX = 150;
export const SLACK_TEXT_MAX = 3000;
// Per-part bounds (escaped characters) chosen so a section's parts sum to < 3000 (worst case
// ≈ 2900): title 300, holder ≈ 215, ids ≈ 415, 5 evidence lines ≈ 250 each, 6 tags ≈ 65 each,
// runbook 300.
const TITLE_MAX = 300;
const HOLDER_NAME_MAX = 100;
const HOLDER_ACCOUNT_MAX = 80;
const EVIDENCE_SHOWN = 5;
const EVIDENCE_VALUE_MAX = 200;
const TAGS_SHOWN = 6;
const TAG_MAX = 60;
const RUNBOOK_MAX = 300;

/** The action_id of each button on an action awaiting approval. */
export const SLACK_ACTIONS = { approve: 'credwarden.approve', deny: 'credwarden.deny' } as const;
/** Slack's limit on a button's value. */
export const SLACK_BUTTON_VALUE_MAX = 2000;
const CONFIRM_TEXT_MAX = 300;

type Mrkdwn = { type: 'mrkdwn'; text: string; verbatim: true };
type PlainText = { type: 'plain_text'; text: string; emoji: false };
export interface SlackButton {
  type: 'button';
  action_id: string;
  text: PlainText;
  value: string;
  style: 'primary' | 'danger';
  confirm?: { title: PlainText; text: PlainText; confirm: PlainText; deny: PlainText; style: 'danger' };
}
export type SlackBlock =
  | { type: 'header'; text: PlainText }
  | { type: 'section'; text: Mrkdwn }
  | { type: 'context'; elements: Mrkdwn[] }
  | { type: 'divider' }
  | { type: 'actions'; elements: SlackButton[] };

export interface SlackMessageOptions {
  /** Approve and Deny buttons on items awaiting approval (`api.slack` is set). */
  approvalButtons?: boolean;
}

export interface SlackMessage {
  text: string;
  blocks: SlackBlock[];
  unfurl_links: false;
  unfurl_media: false;
}

export function slackMessage(n: Notification, opts: SlackMessageOptions = {}): SlackMessage {
  const blocks: SlackBlock[] = [header(n)];
  let shown = 0;
  for (const [i, item] of n.items.entries()) {
    const buttons = opts.approvalButtons ? approvalActions(item) : null;
    const itemBlocks: SlackBlock[] = [
      ...(i > 0 ? [divider()] : []),
      section(itemText(item)),
      context(item),
      ...(buttons ? [buttons] : []),
    ];
    const restAfter = n.items.length - i - 1;
    // Room for this item and, if any remain, the divider and the "…and N more" section.
    if (blocks.length + itemBlocks.length + (restAfter > 0 ? 2 : 0) > SLACK_MAX_BLOCKS) break;
    blocks.push(...itemBlocks);
    shown++;
  }
  const hidden = n.items.length - shown;
  if (hidden > 0) {
    blocks.push(divider(), section(`${ELLIPSIS}and ${hidden} more finding${hidden === 1 ? '' : 's'}`));
  }
  return { text: fallbackText(n), blocks, unfurl_links: false, unfurl_media: false };
}

export class SlackSink implements Sink {
  readonly type = 'slack' as const;
  readonly name: string;

  constructor(
    private readonly cfg: SlackSinkConfig,
    private readonly fetchImpl: typeof fetch = fetch,
    private readonly opts: SlackMessageOptions = {},
  ) {
    this.name = cfg.name;
  }

  async send(n: Notification): Promise<SinkResult> {
    if (n.items.length === 0) return { ok: true, status: null, retryable: false, detail: 'no items to send' };
    const body = JSON.stringify(slackMessage(n, this.opts));
    return postJson(this.cfg.webhookUrl, {}, body, this.cfg.timeoutMs, this.fetchImpl);
  }
}

function header(n: Notification): SlackBlock {
  const item = n.items[0];
  let text: string;
  if (n.mode === 'test') text = 'credwarden: test notification';
  else if (n.mode === 'page' && item) {
    const holder = holderLine(item);
    text = `${label(item)}: ${holder ? `${slackPlain(holder)}: ` : ''}${slackPlain(item.title)}`;
  } else {
    text = `credwarden: ${counted(n)} for ${slackPlain(n.group.owner ?? 'unowned')}`;
  }
  return { type: 'header', text: { type: 'plain_text', text: trimTo(text, SLACK_HEADER_MAX), emoji: false } };
}

function itemText(item: AlertItem): string {
  const lines = [`*${label(item)}*${resolvedNote(item)}  ${trimEscaped(slackLiteral(item.title), TITLE_MAX)}`];
  const holder = holderText(item);
  if (holder) lines.push(holder);
  const others = (item.policies?.length ?? 1) - 1;
  const ids = [
    `Credential ${slackCode(item.credentialId, 150)}`,
    `Policy ${slackCode(item.policy, 100)}${others > 0 ? ` +${others} more` : ''}`,
  ];
  ids.push(`Kind ${slackCode(item.kind, 60)}`);
  if (item.environment) ids.push(`Env ${slackCode(item.environment, 60)}`);
  lines.push(ids.join(' · '));
  for (const e of item.evidence.slice(0, EVIDENCE_SHOWN)) {
    lines.push(`• ${trimEscaped(slackLiteral(e.label), 40)}: ${slackCode(e.value, EVIDENCE_VALUE_MAX)}`);
  }
  if (item.evidence.length > EVIDENCE_SHOWN)
    lines.push(`• ${ELLIPSIS}and ${item.evidence.length - EVIDENCE_SHOWN} more`);
  const tags = Object.entries(item.tags);
  if (tags.length > 0) {
    const shown = tags.slice(0, TAGS_SHOWN).map(([k, v]) => slackCode(`${k}=${v}`, TAG_MAX));
    const more = tags.length > TAGS_SHOWN ? ` ${ELLIPSIS}and ${tags.length - TAGS_SHOWN} more` : '';
    lines.push(`Tags ${shown.join(' ')}${more}`);
  }
  const runbook = item.runbookUrl;
  // A link is built, so its URL must not be able to end it early: no `|`, `>` or whitespace.
  if (runbook && runbook.length <= RUNBOOK_MAX && isHttpUrl(runbook) && !/[\s<>|]/.test(runbook)) {
    lines.push(`<${slackEscape(runbook)}|Runbook>`);
  }
  // By construction the parts above fit; the trim is a backstop, not the design.
  return trimEscaped(lines.join('\n'), SLACK_SECTION_MAX);
}

/** `IAM user `agent-deploy-1` in account `prod` (`111111111111`)`: names as code, so nothing in them formats. */
function holderText(item: AlertItem): string | null {
  if (!item.principalName) return null;
  const name = slackCode(item.principalName, HOLDER_NAME_MAX);
  const a = item.account;
  const where = a
    ? a.name
      ? ` in account ${slackCode(a.name, HOLDER_ACCOUNT_MAX)} (${slackCode(a.id, 20)})`
      : ` in account ${slackCode(a.id, 20)}`
    : item.source
      ? ` in ${slackCode(item.source, HOLDER_ACCOUNT_MAX)}`
      : '';
  return `${principalNoun(item.principalType)} ${name}${where}`;
}

function context(item: AlertItem): SlackBlock {
  const owner = item.owner
    ? `${trimEscaped(slackLiteral(item.owner.team), 80)} (${trimEscaped(slackLiteral(item.owner.contact), 120)})`
    : 'unowned';
  const texts = [
    ...(item.principal ? [`Principal ${slackCode(item.principal, 300)}`] : []),
    `Agent ${slackCode(item.agentId ?? 'unattributed', 120)}`,
    `Owner ${owner}`,
    `Transition ${slackCode(item.transition, 40)}`,
    `Scan ${slackCode(item.scanId, 80)}`,
  ];
  return { type: 'context', elements: texts.map(mrkdwn) };
}

function fallbackText(n: Notification): string {
  const item = n.items[0];
  if (n.mode === 'test') return 'credwarden: test notification';
  // The fallback is what notifications and screen readers show: one line, escaped like the blocks.
  const lit = (s: string) => slackLiteral(oneLine(trimTo(s, SLACK_TEXT_MAX)));
  if (n.mode === 'page' && item) {
    const holder = holderLine(item);
    return trimEscaped(`${label(item)}: ${holder ? `${lit(holder)}: ` : ''}${lit(item.title)}`, SLACK_TEXT_MAX);
  }
  const head = `credwarden: ${counted(n)} for ${lit(n.group.owner ?? 'unowned')}`;
  const titles = n.items.slice(0, 20).map((i) => `${label(i)} ${lit(i.title)}`);
  return trimEscaped(`${head}: ${titles.join('; ')}`, SLACK_TEXT_MAX);
}

/** `3 findings`, or `1 remediation update` when every item is a remediation notice. */
function counted(n: Notification): string {
  const count = n.items.length;
  const noun = n.items.every((i) => i.remediation) ? 'remediation update' : 'finding';
  return `${count} ${noun}${count === 1 ? '' : 's'}`;
}

function label(item: AlertItem): string {
  if (item.remediation) return item.remediation.outcome.replace('-', ' ').toUpperCase();
  return item.action === 'resolve' ? 'RESOLVED' : item.severity.toUpperCase();
}

function resolvedNote(item: AlertItem): string {
  return item.action === 'resolve' ? ` (was ${item.severity})` : '';
}

/** Approve and Deny for an item awaiting approval; null for any other item. */
function approvalActions(item: AlertItem): SlackBlock | null {
  const r = item.remediation;
  if (r?.outcome !== 'awaiting-approval' || !r.planId || r.planId.length > SLACK_BUTTON_VALUE_MAX) return null;
  const what = `${item.remediation?.action} on ${item.credentialId}`;
  return {
    type: 'actions',
    elements: [
      {
        type: 'button',
        action_id: SLACK_ACTIONS.approve,
        text: plainText('Approve'),
        style: 'primary',
        value: r.planId,
      },
      {
        type: 'button',
        action_id: SLACK_ACTIONS.deny,
        text: plainText('Deny'),
        style: 'danger',
        value: r.planId,
        confirm: {
          title: plainText('Deny this action?'),
          text: plainText(
            trimTo(slackPlain(`Deny ${what}? A denial is final: no later scan plans it again.`), CONFIRM_TEXT_MAX),
          ),
          confirm: plainText('Deny'),
          deny: plainText('Cancel'),
          style: 'danger',
        },
      },
    ],
  };
}

function plainText(text: string): PlainText {
  return { type: 'plain_text', text, emoji: false };
}

function section(text: string): SlackBlock {
  return { type: 'section', text: mrkdwn(text) };
}

function mrkdwn(text: string): Mrkdwn {
  return { type: 'mrkdwn', text, verbatim: true };
}

function divider(): SlackBlock {
  return { type: 'divider' };
}
