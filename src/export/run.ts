/**
 * One scheduled findings export (`evidence.exports[]`, run by jobs/export.processor.ts on its
 * job scheduler's tick): every finding but merged tombstones (open, suppressed and resolved, so a
 * downstream tool sees findings close), rendered in the entry's format (export/index.ts), then
 * - `file`: written atomically (a temporary file in the same directory, fsynced, renamed over the
 *   target), the path relative to the config file's directory;
 * - `sink`: POSTed to that `alerts.sinks` webhook, Standard Webhooks signed (alerts/sign.ts), in
 *   parts of at most PART_SIZE records (ASFF: 100, BatchImportFindings' limit per call). Each body
 *   is `{ type: "credwarden.export", export, format, generatedAt, part, parts, count, …payload }`
 *   and its `webhook-id` `cwexport_<name>_<tick ms>_<part>`, the same on every retry of the tick.
 * Each run is a full snapshot, so a part sent twice or a tick missed is made good by the next.
 * Then one `export.written` audit event (idempotent per tick) names the export, format, count,
 * parts and target: a file path or the sink's name, never its URL or secret.
 * A webhook failure the receiver may recover from (network, 429, 5xx) is retried by the job;
 * any other (4xx, a sink that is not a webhook) fails the job for good.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, open, rename, rm } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { signStandardWebhook } from '../alerts/sign.js';
import type { WebhookSinkConfig } from '../alerts/sinks/config.js';
import { postJson } from '../alerts/sinks/http.js';
import { CwError, ErrorCodes } from '../errors.js';
import type { ExportFormat } from '../evidence/config.js';
import type { App } from '../main.js';
import { renderExport } from './index.js';
import { exportable, exportInputFromApp } from './input.js';

export const EXPORT_EVENT_TYPE = 'credwarden.export';

export interface ExportOutcome {
  name: string;
  format: ExportFormat;
  count: number;
  parts: number;
  target: { file: string } | { sink: string };
  skipped: Record<string, number>;
}

export interface ExportRunOptions {
  fetchImpl?: typeof fetch;
  /** Transport time for webhook-timestamp: the wall clock, never the evaluation clock (main.ts). */
  wallClock?: () => Date;
}

/** Writes `text` to `path` so that a reader sees the old file or the new one, never half of one. */
export async function writeFileAtomic(path: string, text: string): Promise<void> {
  const dir = dirname(path);
  await mkdir(dir, { recursive: true });
  const tmp = join(dir, `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  try {
    const fh = await open(tmp, 'wx', 0o640);
    try {
      await fh.writeFile(text, 'utf8');
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, path);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
  // The rename itself is durable once the directory is synced.
  const d = await open(dir, 'r').catch(() => null);
  await d?.sync().catch(() => undefined);
  await d?.close();
}

const webhookId = (name: string, tickMs: number, part: number): string =>
  `cwexport_${name.replace(/[^A-Za-z0-9_-]/g, '_')}_${tickMs}_${part}`;

function webhookSink(app: App, name: string, sink: string): WebhookSinkConfig {
  const s = app.config.alerts.sinks.find((x) => x.name === sink);
  if (s?.type !== 'webhook')
    throw new CwError(
      ErrorCodes.CONFIG,
      `evidence.exports "${name}": sink "${sink}" is ${s ? `a ${s.type} sink, not a webhook` : 'not in alerts.sinks'}`,
    );
  return s;
}

/** Runs the export named `name` for the tick `tickMs`; null when no export has that name (any more). */
export async function runExport(
  app: App,
  name: string,
  tickMs: number,
  opts: ExportRunOptions = {},
): Promise<ExportOutcome | null> {
  const cfg = app.config.evidence.exports.find((e) => e.name === name);
  if (!cfg) {
    app.log.warn({ export: name }, 'no export of that name is configured any more: nothing written');
    return null;
  }
  const sink = cfg.sink ? webhookSink(app, name, cfg.sink) : null;
  const generatedAt = app.clock.now();
  const doc = renderExport(
    cfg.format,
    await exportInputFromApp(app, exportable(await app.findings.all()), generatedAt),
  );
  let target: ExportOutcome['target'];
  let parts = 1;
  if (sink) {
    const all = doc.parts();
    parts = all.length;
    const wall = opts.wallClock ?? (() => new Date());
    for (const [i, part] of all.entries()) {
      const body = JSON.stringify({
        type: EXPORT_EVENT_TYPE,
        export: name,
        format: cfg.format,
        generatedAt: generatedAt.toISOString(),
        part: i + 1,
        parts,
        count: part.count,
        ...part.payload,
      });
      const id = webhookId(name, tickMs, i + 1);
      const timestamp = Math.floor(wall().getTime() / 1000);
      const headers = {
        'Content-Type': 'application/json',
        'webhook-id': id,
        'webhook-timestamp': String(timestamp),
        'webhook-signature': signStandardWebhook({ id, timestamp, body, secrets: sink.secrets }),
      };
      const res = await postJson(sink.url, headers, body, sink.timeoutMs, opts.fetchImpl ?? fetch, sink.secrets);
      if (!res.ok)
        throw new CwError(
          ErrorCodes.UNREACHABLE,
          `export "${name}" part ${i + 1}/${parts} to sink "${sink.name}" failed: ${res.detail}`,
          { retryable: res.retryable },
        );
    }
    target = { sink: sink.name };
  } else {
    const file = resolve(app.config.baseDir, cfg.file!);
    await writeFileAtomic(file, doc.text);
    target = { file };
  }
  const outcome: ExportOutcome = { name, format: cfg.format, count: doc.count, parts, target, skipped: doc.skipped };
  await app.audit.append({
    type: 'export.written',
    actor: 'credwarden',
    subject: `export/${name}`,
    data: { export: name, format: cfg.format, count: doc.count, parts, target, skipped: doc.skipped, tick: tickMs },
    idempotencyKey: `export/${name}/${tickMs}`,
  });
  app.log.info({ export: name, format: cfg.format, count: doc.count, parts, target }, 'findings export written');
  return outcome;
}
