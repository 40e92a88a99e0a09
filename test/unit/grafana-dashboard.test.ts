/**
 * deploy/grafana/credwarden.json against what /metrics really serves: every metric name in every
 * panel's PromQL must be a sample name in an ApiMetrics render (so a renamed or misspelt metric
 * fails here), and there is a panel for each metric ApiMetrics exports from Redis. The render runs
 * over in-memory stand-ins of the services it reads, so every labelled series has a sample.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ApiMetrics, type MetricsApp } from '../../src/api/metrics.js';
import { createLogger } from '../../src/logger.js';
import type { Queues } from '../../src/queue/runtime.js';
import { accessKey } from '../support/credentials.js';
import { parseExposition } from '../support/prom-text.js';

const ROOT = join(import.meta.dirname, '..', '..');
/** `${DS_PROMETHEUS}`: the datasource input Grafana asks for on import. */
const DS_UID = ['$', '{DS_PROMETHEUS}'].join('');

interface Panel {
  title?: string;
  type: string;
  datasource?: { type?: string; uid?: string };
  targets?: { expr?: string }[];
  panels?: Panel[];
}
interface Dashboard {
  schemaVersion: number;
  __inputs?: { name: string; type: string; pluginId: string }[];
  panels: Panel[];
}

const dashboard = JSON.parse(readFileSync(join(ROOT, 'deploy', 'grafana', 'credwarden.json'), 'utf8')) as Dashboard;
const panels = dashboard.panels.flatMap((p) => [p, ...(p.panels ?? [])]);

const KEYWORDS = new Set([
  'and',
  'or',
  'unless',
  'bool',
  'offset',
  'by',
  'without',
  'on',
  'ignoring',
  'group_left',
  'group_right',
  'inf',
  'nan',
]);

/** Metric names in a PromQL expression: identifiers that are not functions, keywords, labels or strings. */
function metricNames(expr: string): string[] {
  const bare = expr
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g, ' ') // strings
    .replace(/\{[^}]*\}/g, ' ') // label matchers
    .replace(/\[[^\]]*\]/g, ' ') // ranges and subqueries
    .replace(/\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ') // label lists
    .replace(/\$\{[^}]*\}|\$\w+/g, ' '); // dashboard variables
  const names = new Set<string>();
  for (const m of bare.matchAll(/(?<![\w.:])([a-zA-Z_:][\w:]*)(?![\w:]|\s*\()/g)) {
    const id = m[1]!;
    if (!KEYWORDS.has(id.toLowerCase())) names.add(id);
  }
  return [...names];
}

function stubbedMetrics(): ApiMetrics {
  const scan = (id: string, status: string) => ({
    id,
    status,
    finishedAt: status === 'running' ? null : '2026-11-01T00:00:00.000Z',
  });
  const app = {
    config: { redis: { prefix: 'unit' } },
    redis: { hgetall: async () => ({ 'b:0.005': '2', 'b:+Inf': '1', sum: '5.01', count: '3' }) },
    log: createLogger({ level: 'silent' }),
    scans: {
      recentIds: async () => ['s1', 's2'],
      summary: async (id: string) => (id === 's1' ? scan('s1', 'complete') : scan('s2', 'running')),
      currentInventory: async () => [accessKey()],
    },
    findings: { all: async () => [{ state: 'open', severity: 'critical' }] },
    remediation: {
      list: async () => [{ state: 'done', plan: { action: 'deactivate-key' } }],
      controls: { pauseState: async () => null },
    },
  } as unknown as MetricsApp;
  const queue = (name: string) => ({ name, getJobCounts: async () => ({ waiting: 1, failed: 2 }) });
  const queues = {
    scan: queue('scan'),
    discover: queue('discover'),
    inventory: queue('inventory'),
    evaluate: queue('evaluate'),
    remediate: queue('remediate'),
    decisions: queue('decisions'),
    alerts: new Map([['hook', queue('alert-hook')]]),
  } as unknown as Queues;
  return new ApiMetrics({ app, queues });
}

describe('Grafana dashboard', () => {
  it('is a schemaVersion 39+ dashboard on a DS_PROMETHEUS datasource input', () => {
    expect(dashboard.schemaVersion).toBeGreaterThanOrEqual(39);
    expect(dashboard.__inputs).toContainEqual(
      expect.objectContaining({ name: 'DS_PROMETHEUS', type: 'datasource', pluginId: 'prometheus' }),
    );
    for (const p of panels.filter((p) => p.type !== 'row')) {
      expect(p.datasource, p.title).toEqual({ type: 'prometheus', uid: DS_UID });
      expect(p.targets?.length, p.title).toBeGreaterThan(0);
    }
  });

  it('extracts metric names from PromQL (and would catch one that does not exist)', () => {
    expect(
      metricNames(
        'histogram_quantile(0.99, sum by (le) (rate(credwarden_audit_append_seconds_bucket{job="x"}[5m]))) > bool 1',
      ),
    ).toEqual(['credwarden_audit_append_seconds_bucket']);
    expect(metricNames('time() - max(credwarden_last_scan_timestamp_seconds offset 1h)')).toEqual([
      'credwarden_last_scan_timestamp_seconds',
    ]);
    expect(metricNames('a_total / ignoring(x) b:rate5m{l=~"c|d"} or vector(0)')).toEqual(['a_total', 'b:rate5m']);
  });

  it('names only metrics that a real ApiMetrics render exports', async () => {
    const { contentType, body } = await stubbedMetrics().render();
    expect(contentType).toMatch(/^text\/plain; version=0\.0\.4/);
    const exported = new Set(parseExposition(body).samples.map((s) => s.name));
    const used = panels.flatMap((p) =>
      (p.targets ?? []).map((t) => ({ panel: p.title, expr: t.expr ?? '', names: metricNames(t.expr ?? '') })),
    );
    for (const u of used) expect(u.names.length, `${u.panel}: ${u.expr}`).toBeGreaterThan(0);
    const missing = used.flatMap((u) => u.names.filter((n) => !exported.has(n)).map((n) => `${u.panel}: ${n}`));
    expect(missing).toEqual([]);
    // The check itself bites: a name that is not exported is reported.
    expect(exported.has('credwarden_findings_opened')).toBe(false);
  });

  it('has a panel for every metric read from Redis, findings as a stat and a time series', () => {
    const byMetric = (name: string) =>
      panels.filter((p) => (p.targets ?? []).some((t) => metricNames(t.expr ?? '').includes(name))).map((p) => p.type);
    for (const m of [
      'credwarden_scans',
      'credwarden_credentials',
      'credwarden_actions',
      'credwarden_queue_jobs',
      'credwarden_remediation_paused',
      'credwarden_audit_append_seconds_bucket',
    ]) {
      expect(byMetric(m).length, m).toBeGreaterThan(0);
    }
    expect(byMetric('credwarden_findings_open').sort()).toEqual(['stat', 'timeseries']);
    const exprs = panels.flatMap((p) => (p.targets ?? []).map((t) => t.expr ?? ''));
    for (const q of ['0.5', '0.99']) {
      expect(exprs).toContainEqual(
        expect.stringMatching(
          new RegExp(
            `histogram_quantile\\(${q.replace('.', '\\.')},.*rate\\(credwarden_audit_append_seconds_bucket\\[5m\\]\\)`,
          ),
        ),
      );
    }
    expect(exprs.some((e) => /credwarden_queue_jobs\{state="failed"\}/.test(e))).toBe(true);
  });
});
