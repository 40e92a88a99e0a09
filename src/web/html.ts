/**
 * HTML built from tagged templates that escape every interpolated value by default. Everything a
 * page shows from the estate (tags, names, policy text, reasons) is untrusted: a hostile tag such
 * as `<img src=x onerror=…>` must render as text. Only an `Html` value (built by `html`, or
 * `raw()` of a constant the code owns) is inserted as markup; anything else is escaped, arrays
 * are joined, null, undefined and false render as nothing.
 *
 *   html`<td>${credential.principal}</td>`              escaped
 *   html`<ul>${items.map((i) => html`<li>${i}</li>`)}</ul>`  nested markup kept
 *   html`<a href="${href('/findings', { agent })}">`       attribute values escaped the same way
 */
export class Html {
  constructor(readonly value: string) {}
  toString(): string {
    return this.value;
  }
}

const ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
  '`': '&#96;',
};

/** Text (or an attribute value) made safe inside HTML: & < > " ' ` escaped. */
export function escapeHtml(s: string): string {
  return s.replace(/[&<>"'`]/g, (c) => ESCAPES[c]!);
}

type Part = Html | string | number | bigint | boolean | null | undefined | readonly Part[];

function render(v: Part): string {
  if (v === null || v === undefined || v === false) return '';
  if (v instanceof Html) return v.value;
  if (Array.isArray(v)) return v.map(render).join('');
  return escapeHtml(String(v));
}

export function html(strings: TemplateStringsArray, ...values: Part[]): Html {
  let out = strings[0]!;
  for (let i = 0; i < values.length; i++) out += render(values[i]!) + strings[i + 1]!;
  return new Html(out);
}

/** Markup the code itself owns (never estate data). */
export const raw = (s: string): Html => new Html(s);

/** A same-origin URL: a path and its query, empty values left out (so a shared link stays short). */
export function href(path: string, query: Record<string, string | number | undefined | null> = {}): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) if (v !== undefined && v !== null && v !== '') q.set(k, String(v));
  const s = q.toString();
  return s ? `${path}?${s}` : path;
}
