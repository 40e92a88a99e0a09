/**
 * Text hygiene for everything a sink renders. AlertItem strings (titles, tags, evidence, names) are
 * untrusted: an agent or whoever tagged a credential wrote them. These pure functions make them
 * harmless for each destination:
 *
 * - plain(s): for JSON sinks (PagerDuty, webhooks). JSON.stringify already escapes quotes and
 *   control characters, but a pager screen still renders what it decodes, so control characters
 *   and the invisible / bidi-override characters that reorder or hide text are removed. \n and \t
 *   stay; \r\n and lone \r become \n.
 * - oneLine(s): plain() and every whitespace run (newlines included) folded to one space, for
 *   one-line fields (PagerDuty summary, Slack header).
 * - slackEscape(s): plain() plus Slack's own escaping rule (& < > → &amp; &lt; &gt;), so no link,
 *   user mention or `<!channel>` / `<!here>` ping can form from untrusted text.
 * - slackLiteral(s): slackEscape() plus the mrkdwn markers * ~ ` replaced by look-alikes, so
 *   untrusted prose cannot bold, strike through (a finding that looks "done") or open code spans.
 *   `_` is left alone: it is common inside identifiers and italics mislead no one.
 * - slackCode(s): an inline code span of s. Inside code mrkdwn formatting does not apply; only a
 *   backtick could close the span early, so backticks are replaced.
 * - slackPlain(s): for plain_text objects (header). No markup is parsed there, but < and > are
 *   still swapped for ‹ › so the text is inert whether or not Slack decodes entities in it.
 * - trimTo(s, max) / trimEscaped(s, max): bound a string to max UTF-16 code units (what the
 *   vendors' limits count, or more conservatively), ending with "…" when cut, never splitting a
 *   surrogate pair, and (trimEscaped) never splitting an &amp;-style entity.
 */

/** C0 controls except \t (09) and \n (0A), DEL, and C1 controls. \r is handled before this runs. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is this regex's job.
const CONTROL = /[\u0000-\u0008\u000B-\u001F\u007F-\u009F]/g;
/**
 * Characters that change how text reads without being visible: zero-width space/joiners and
 * LRM/RLM (U+200B–U+200F), bidi embeddings and overrides (U+202A–U+202E), bidi isolates
 * (U+2066–U+2069), the Arabic letter mark (U+061C), word joiner and invisible operators
 * (U+2060–U+2064) and the BOM / zero-width no-break space (U+FEFF). An RTL override can make
 * `gpj.exe` read as `exe.jpg`; on a pager that is a lie about which credential is at stake.
 */
const INVISIBLE = /[\u061C\u200B-\u200F\u202A-\u202E\u2060-\u2064\u2066-\u2069\uFEFF]/g;
/** Unicode line/paragraph separators act as newlines in many renderers. */
const LINE_SEPARATORS = /[\u2028\u2029]/g;

export const ELLIPSIS = '…';

export function plain(s: string): string {
  return s.replace(/\r\n?/g, '\n').replace(LINE_SEPARATORS, '\n').replace(CONTROL, '').replace(INVISIBLE, '');
}

export function oneLine(s: string): string {
  return plain(s).replace(/\s+/g, ' ').trim();
}

export function slackEscape(s: string): string {
  return plain(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

export function slackLiteral(s: string): string {
  // U+2217 ASTERISK OPERATOR, U+223C TILDE OPERATOR, U+02CB MODIFIER LETTER GRAVE ACCENT.
  return slackEscape(s).replace(/\*/g, '∗').replace(/~/g, '∼').replace(/`/g, 'ˋ');
}

/** An inline code span, at most `max` characters of content (escaped), never empty. */
export function slackCode(s: string, max = 200): string {
  const body = trimEscaped(slackEscape(oneLine(s)).replace(/`/g, 'ˋ'), max);
  // An empty span (``) renders as two literal backticks; show a placeholder instead.
  return `\`${body === '' ? '-' : body}\``;
}

export function slackPlain(s: string): string {
  return oneLine(s).replace(/</g, '‹').replace(/>/g, '›');
}

export function trimTo(s: string, max: number): string {
  if (s.length <= max) return s;
  if (max <= 0) return '';
  if (max === 1) return ELLIPSIS;
  let end = max - 1;
  // Cutting between a high and a low surrogate would leave a lone surrogate (invalid UTF-16:
  // JSON encoders emit \ud83d and some receivers reject the whole body).
  if (isHighSurrogate(s.charCodeAt(end - 1))) end--;
  return s.slice(0, end) + ELLIPSIS;
}

/**
 * trimTo for text that is already entity-escaped (slackEscape output): a cut inside `&amp;` would
 * leave `&am…`, which Slack shows verbatim, so the cut moves back to before the entity.
 */
export function trimEscaped(s: string, max: number): string {
  const t = trimTo(s, max);
  if (t === s || !t.endsWith(ELLIPSIS)) return t;
  const head = t.slice(0, -ELLIPSIS.length);
  const amp = head.lastIndexOf('&');
  // Our entities are at most 5 characters (&amp;); only a trailing `&` with no `;` after it is cut.
  if (amp !== -1 && head.length - amp < 5 && !head.slice(amp).includes(';')) return head.slice(0, amp) + ELLIPSIS;
  return t;
}

function isHighSurrogate(code: number): boolean {
  return code >= 0xd800 && code <= 0xdbff;
}
