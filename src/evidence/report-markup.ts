/**
 * The report's escaping template (report-html.ts, report-drills.ts): every interpolated value is
 * escaped unless it is Markup built here, so a hostile value comes out as inert text.
 */

/** Markup built by `html` (trusted); anything else interpolated is escaped. */
export class Markup {
  constructor(readonly text: string) {}
  toString(): string {
    return this.text;
  }
}

export function escapeHtml(v: unknown): string {
  return String(v ?? '').replace(
    /[&<>"'`]/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;', '`': '&#96;' })[c]!,
  );
}

const part = (v: unknown): string =>
  v instanceof Markup ? v.text : Array.isArray(v) ? v.map(part).join('') : escapeHtml(v);

export function html(strings: TemplateStringsArray, ...values: unknown[]): Markup {
  let out = strings[0]!;
  for (let i = 0; i < values.length; i++) out += part(values[i]) + strings[i + 1]!;
  return new Markup(out);
}
