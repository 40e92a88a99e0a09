/**
 * The compliance page (audit:read).
 *
 * GET /compliance?framework&from&to: each control of the framework over the period, judged as the
 * evidence pack judges it (evidence/export.ts buildEvidence: collect the audit chain, then
 * evaluateControls; the built files are removed at once), and the audit verification as
 * GET /api/v1/audit/verify runs it (verify-copies.ts, with the checkpoint sources). The period
 * defaults to the last 30 days. Building needs no evidence key to judge the controls: the
 * checkpoint it signs goes only into the pack, so the page signs that one with a key of its own
 * (generated once per process, never written anywhere) and the controls show without
 * evidence.signingKey.
 *
 * GET /compliance/evidence?framework&from&to (evidence:read): the signed pack, exactly as
 * GET /api/v1/evidence streams it (exportEvidence; the evidence.exported event names the signed-in
 * person, via `dashboard`), as an attachment. Without evidence.signingKey it explains that instead.
 */
import { generateKeyPairSync } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { verifyAppAudit } from '../../api/audit-verify.js';
import { can } from '../../api/roles.js';
import { CwError } from '../../errors.js';
import type { ControlResult } from '../../evidence/controls.js';
import {
  buildEvidence,
  type EvidenceRequest,
  evidenceKey,
  exportEvidence,
  parseEvidenceRequest,
} from '../../evidence/export.js';
import { framework } from '../../evidence/frameworks.js';
import { keyIdOf, type SigningKey } from '../../evidence/signing.js';
import type { App } from '../../main.js';
import { HeadCache } from '../head-cache.js';
import { href, html } from '../html.js';
import { definePage, type Page, type PageCall } from '../page.js';
import { keep } from '../ui.js';
import {
  controlsPart,
  downloadForm,
  type PeriodQuery,
  periodForm,
  periodOf,
  type VerifyOutcome,
  verifyPart,
} from './compliance-parts.js';

const NAMES = { framework: 'framework', from: 'from', to: 'to' };

let viewKey: SigningKey | null = null;
/** The key the page's builds sign their (discarded) checkpoint with; the pack itself uses evidence.signingKey. */
function pageKey(): SigningKey {
  if (!viewKey) {
    const { privateKey, publicKey } = generateKeyPairSync('ed25519');
    viewKey = {
      privateKey,
      publicKey,
      publicPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
      keyid: keyIdOf(publicKey),
    };
  }
  return viewKey;
}

/** Why a pack cannot be signed (evidence.signingKey missing or unreadable), or null. */
function keyProblem(app: App): string | null {
  try {
    evidenceKey(app.config);
    return null;
  } catch (err) {
    if (err instanceof CwError) return err.message;
    throw err;
  }
}

/**
 * Both of the page's results read the whole audit chain (about a second each for 200,000 events),
 * so they are kept until the chain moves (head-cache.ts): the controls of a period for 5 minutes at
 * most (an open finding's age counts against its SLA as time passes), the verification for one
 * minute at most.
 */
const cacheOf = new WeakMap<App, HeadCache>();
const cache = (app: App): HeadCache => {
  const kept = cacheOf.get(app);
  if (kept) return kept;
  const c = new HeadCache();
  cacheOf.set(app, c);
  return c;
};
const CONTROLS_BUCKET_MS = 5 * 60_000;
const VERIFY_BUCKET_MS = 60_000;

async function controlsOf(app: App, req: EvidenceRequest, seq: number): Promise<ControlResult[]> {
  const bucket = Math.floor(app.clock.now().getTime() / CONTROLS_BUCKET_MS);
  const key = `controls|${req.framework}|${req.from.toISOString()}|${req.to.toISOString()}|${bucket}`;
  return cache(app).get(key, seq, async () => {
    const built = await buildEvidence(app, req, { key: pageKey() });
    await built.cleanup();
    return built.controls;
  });
}

/**
 * `credwarden audit verify` as GET /api/v1/audit/verify runs it, kept until the next audit event
 * and for one minute at most: a copy edited in place (no new event) shows within that minute.
 */
function verifyAudit(app: App, seq: number): Promise<VerifyOutcome> {
  const bucket = Math.floor(Date.now() / VERIFY_BUCKET_MS);
  return cache(app).get(`verify|${bucket}`, seq, () => verifyNow(app));
}

async function verifyNow(app: App): Promise<VerifyOutcome> {
  const { ok, breaks, checkpoint, checks } = await verifyAppAudit(app);
  return { ok, breaks, checkpoint, checked: checks.map((c) => c.where) };
}

const periodText = (r: EvidenceRequest) => `${r.from.toISOString()} to ${r.to.toISOString()}`;

async function compliance({ deps: { app }, session, query, view }: PageCall) {
  const now = app.clock.now().getTime();
  const p: PeriodQuery = periodOf(query, now);
  let req: EvidenceRequest | null = null;
  let problem: string | null = null;
  try {
    req = parseEvidenceRequest(p, NAMES);
  } catch (err) {
    if (!(err instanceof CwError)) throw err;
    problem = err.message;
  }
  const seq = (await app.audit.head()).seq;
  let controls: ControlResult[] | null = null;
  if (req)
    try {
      controls = await controlsOf(app, req, seq);
    } catch (err) {
      if (!(err instanceof CwError)) throw err;
      problem = err.message;
    }
  const missingKey = keyProblem(app);
  const download = !can(session.roles, 'evidence:read')
    ? html`<p class="muted">Your roles do not grant evidence:read, which downloading the evidence pack needs.</p>`
    : missingKey
      ? html`<p class="notice error">The evidence pack cannot be downloaded: ${missingKey}.</p>`
      : downloadForm(p);
  const verify = await verifyAudit(app, seq);
  const body = html`<h1>Compliance</h1>
${periodForm(p)}
<section aria-labelledby="controls-h">
<h2 id="controls-h">Controls: ${framework(p.framework).name}</h2>
${req && controls ? controlsPart(p.framework, controls, periodText(req)) : html`<p class="muted">No controls to show.</p>`}
${download}
</section>
<section aria-labelledby="audit-h">
<h2 id="audit-h">Audit log verification</h2>
${verifyPart(verify, now)}
</section>`;
  return view('Compliance', body, problem ? { kind: 'error', text: problem } : null);
}

async function evidencePack({ deps: { app }, query, reply, actor, view }: PageCall) {
  const refuse = (status: number, text: string) => ({
    status,
    html: view(
      'Evidence pack',
      html`<h1>Evidence pack</h1><p>${text}</p><p><a href="${href('/compliance', keep(query, ['framework', 'from', 'to']))}">Back to compliance</a></p>`,
    ),
  });
  let req: EvidenceRequest;
  try {
    req = parseEvidenceRequest(query, NAMES);
  } catch (err) {
    if (!(err instanceof CwError)) throw err;
    return refuse(400, err.message);
  }
  let key: SigningKey;
  try {
    key = evidenceKey(app.config);
  } catch (err) {
    if (!(err instanceof CwError)) throw err;
    return refuse(409, `No pack: ${err.message}. The controls are still shown on the compliance page.`);
  }
  const dir = await mkdtemp(join(tmpdir(), 'cw-evidence-web-'));
  const out = join(dir, 'pack.tar.gz');
  try {
    await exportEvidence(app, req, out, { key, actor, via: 'dashboard' });
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    if (!(err instanceof CwError)) throw err;
    return refuse(409, `No pack: ${err.message}`);
  }
  const name = `credwarden-evidence-${req.framework}-${req.from.toISOString().slice(0, 10)}-${req.to.toISOString().slice(0, 10)}.tar.gz`;
  const stream = createReadStream(out);
  stream.once('close', () => void rm(dir, { recursive: true, force: true }));
  void reply
    .type('application/gzip')
    .header('content-disposition', `attachment; filename="${name}"`)
    .header('cache-control', 'no-store')
    .send(stream);
  return undefined;
}

const pages: readonly Page[] = [
  definePage({ method: 'GET', url: '/compliance', permission: 'audit:read', nav: 'compliance', handle: compliance }),
  definePage({
    method: 'GET',
    url: '/compliance/evidence',
    permission: 'evidence:read',
    nav: 'compliance',
    handle: evidencePack,
  }),
];
export default pages;
