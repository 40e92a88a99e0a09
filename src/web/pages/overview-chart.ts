/**
 * A server-rendered step chart (inline SVG, no script, no style attribute) of several series over
 * time, with its accessible alternatives: the SVG is role="img" with an aria-label, a <title> and a
 * <desc> that says in words what it shows; a legend in HTML names each line by text and dash
 * pattern (never by colour alone); and a <details> holds every number drawn as a table.
 *
 * Each series is one <path>: it starts at `from` with the series' `start` value when one is known
 * (the last value before the range), steps to each value at its x, and holds the last value to
 * `to`. Colours and dashes come from classes (app.css: .chart-line, .s-<key>, .d<n>).
 */
import { type Html, html } from '../html.js';
import { table } from '../ui.js';

export interface ChartSeries {
  /** A class-safe key (`s-<key>` colours the line), e.g. a severity. */
  key: string;
  label: string;
  /** One value per x. */
  values: readonly number[];
  /** The value at `from`, carried from before the range; null or absent when unknown. */
  start?: number | null;
}

export interface StepChartInput {
  /** Unique on the page; ids of the title and desc derive from it. */
  id: string;
  title: string;
  /** A sentence on what the values are, first in the <desc>. */
  about: string;
  /** The x domain, epoch ms. */
  from: number;
  to: number;
  /** The x of each value, epoch ms, ascending. */
  xs: readonly number[];
  /** The first cell of each table row (e.g. the time and the scan id), one per x. */
  rowLabels: readonly Html[];
  series: readonly ChartSeries[];
  tableCaption: string;
  firstColumn: string;
}

/** The drawing area in SVG units (the viewBox is width × height). */
export const GEOMETRY = { width: 720, height: 240, left: 44, right: 18, top: 14, bottom: 30 } as const;
const PLOT_W = GEOMETRY.width - GEOMETRY.left - GEOMETRY.right;
const PLOT_H = GEOMETRY.height - GEOMETRY.top - GEOMETRY.bottom;

const round = (n: number): number => Math.round(n * 10) / 10;
/** Up to this many points, each also gets a dot. */
const MAX_DOTS = 120;

/** The y axis: a whole-number step of 1, 2 or 5 × 10^k with at most about five ticks, and its top. */
export function yScale(maxValue: number): { max: number; step: number } {
  const m = Math.max(1, maxValue);
  const rough = m / 4;
  const pow = 10 ** Math.floor(Math.log10(rough));
  const step = Math.max(1, ([1, 2, 5, 10].find((s) => s * pow >= rough) ?? 10) * pow);
  return { max: Math.ceil(m / step) * step, step };
}

/** The SVG y of a value on an axis topping out at `max`. */
export const yOf = (v: number, max: number): number => round(GEOMETRY.top + PLOT_H * (1 - v / max));

/** The SVG x of a time in [from, to]. */
export const xOf = (t: number, from: number, to: number): number =>
  round(GEOMETRY.left + (to > from ? (PLOT_W * (Math.min(to, Math.max(from, t)) - from)) / (to - from) : 0));

/** The step path of one series ("M x y H x V y … H x"): the y after M and after each V are its values. */
export function stepPath(s: ChartSeries, xs: readonly number[], from: number, to: number, max: number): string {
  const parts: string[] = [];
  const hasStart = s.start !== undefined && s.start !== null;
  if (hasStart) parts.push(`M${xOf(from, from, to)} ${yOf(s.start!, max)}`);
  xs.forEach((t, i) => {
    const x = xOf(t, from, to);
    const y = yOf(s.values[i] ?? 0, max);
    parts.push(i === 0 && !hasStart ? `M${x} ${y}` : `H${x} V${y}`);
  });
  if (parts.length) parts.push(`H${xOf(to, from, to)}`);
  return parts.join(' ');
}

const DAY = 86_400_000;
const dateLabel = (t: number): string =>
  new Date(t).toLocaleDateString('en-US', { month: 'short', day: 'numeric', timeZone: 'UTC' });

function xTicks(from: number, to: number): { t: number; label: string }[] {
  const n = 5;
  const span = to - from;
  const out: { t: number; label: string }[] = [];
  for (let i = 0; i <= n; i++) {
    const t = from + (span * i) / n;
    out.push({ t, label: span >= 2 * DAY ? dateLabel(t) : new Date(t).toISOString().slice(11, 16) });
  }
  return out;
}

function describe(c: StepChartInput): string {
  const range = `${new Date(c.from).toISOString().slice(0, 10)} to ${new Date(c.to).toISOString().slice(0, 10)}`;
  if (c.xs.length === 0 && c.series.every((s) => s.start == null)) return `${c.about} No values from ${range}.`;
  const each = c.series.map((s) => {
    const all = [...(s.start == null ? [] : [s.start]), ...s.values];
    const first = all[0] ?? 0;
    const last = all.at(-1) ?? 0;
    return `${s.label}: ${first} at the start, ${last} at the end, at most ${Math.max(0, ...all)}`;
  });
  return `${c.about} ${c.xs.length} point${c.xs.length === 1 ? '' : 's'} from ${range}. ${each.join('; ')}.`;
}

/** The chart as a <figure>: the SVG, the legend, and the numbers in a <details> table. */
export function stepChart(c: StepChartInput): Html {
  const top = Math.max(0, ...c.series.flatMap((s) => [...s.values, s.start ?? 0]));
  const { max, step } = yScale(top);
  const { width, height, left, right, top: t0, bottom } = GEOMETRY;
  const baseY = height - bottom;
  const yTicks: number[] = [];
  for (let v = 0; v <= max; v += step) yTicks.push(v);
  const ticks = xTicks(c.from, c.to);
  const desc = describe(c);
  const empty = c.xs.length === 0 && c.series.every((s) => s.start == null);
  const svg = html`<svg class="chart-svg" viewBox="0 0 ${width} ${height}" role="img" aria-label="${c.title}" aria-describedby="${c.id}-desc" focusable="false" xmlns="http://www.w3.org/2000/svg">
<title id="${c.id}-title">${c.title}</title>
<desc id="${c.id}-desc">${desc}</desc>
<g class="chart-grid" aria-hidden="true">${yTicks.map((v) => {
    const y = yOf(v, max);
    return html`<line x1="${left}" y1="${y}" x2="${width - right}" y2="${y}"></line><text class="chart-tick" x="${left - 6}" y="${y + 4}" text-anchor="end">${v}</text>`;
  })}</g>
<g class="chart-axis" aria-hidden="true"><line x1="${left}" y1="${baseY}" x2="${width - right}" y2="${baseY}"></line><line x1="${left}" y1="${t0}" x2="${left}" y2="${baseY}"></line>${ticks.map(
    (k, i) =>
      html`<text class="chart-tick" x="${xOf(k.t, c.from, c.to)}" y="${baseY + 18}" text-anchor="${i === 0 ? 'start' : i === ticks.length - 1 ? 'end' : 'middle'}">${k.label}</text>`,
  )}</g>
${
  empty
    ? html`<text class="chart-empty" x="${left + PLOT_W / 2}" y="${t0 + PLOT_H / 2}" text-anchor="middle">No data in this range</text>`
    : c.series.map(
        (s, i) =>
          html`<path class="chart-line s-${s.key.replace(/[^a-z0-9-]/gi, '')} d${i % 5}" data-series="${s.key}" d="${stepPath(s, c.xs, c.from, c.to, max)}"></path>`,
      )
}
${
  // A dot at each measured point (a single scan would otherwise be a line too short to see).
  !empty && c.xs.length <= MAX_DOTS
    ? html`<g class="chart-dots" aria-hidden="true">${c.series.map((s) =>
        c.xs.map(
          (t, i) =>
            html`<circle class="chart-dot s-${s.key.replace(/[^a-z0-9-]/gi, '')}" cx="${xOf(t, c.from, c.to)}" cy="${yOf(s.values[i] ?? 0, max)}" r="3"></circle>`,
        ),
      )}</g>`
    : ''
}
</svg>`;
  const legend = html`<ul class="legend chart-legend">${c.series.map(
    (s, i) =>
      html`<li><svg class="legend-line" viewBox="0 0 28 8" aria-hidden="true" focusable="false"><line class="chart-line s-${s.key.replace(/[^a-z0-9-]/gi, '')} d${i % 5}" x1="0" y1="4" x2="28" y2="4"></line></svg>${s.label}</li>`,
  )}</ul>`;
  const columns = [
    { key: 'x', label: c.firstColumn },
    ...c.series.map((s) => ({ key: s.key, label: s.label, numeric: true })),
  ];
  const startRow = c.series.some((s) => s.start != null)
    ? [[html`before ${new Date(c.from).toISOString().slice(0, 10)}`, ...c.series.map((s) => html`${s.start ?? ''}`)]]
    : [];
  const rows = [
    ...startRow,
    ...c.xs.map((_, i) => [c.rowLabels[i] ?? html``, ...c.series.map((s) => html`${s.values[i] ?? 0}`)]),
  ];
  return html`<figure class="chart" id="${c.id}">
${svg}
<figcaption>${c.title}${legend}</figcaption>
<details class="chart-data"><summary>The numbers behind the chart</summary>
${table({ caption: c.tableCaption, columns, rows, path: '/', empty: 'No values in this range.' })}
</details>
</figure>`;
}
