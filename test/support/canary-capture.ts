/**
 * What the secrets canaries (secrets-canary, rotation-canary) capture besides Redis and
 * logs: every exchange with a backend (through a recording proxy, to learn the credentials it
 * hands out on the wire; it may inject faults), the secrets in those bodies, and the files a run left.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { createServer, type IncomingMessage, request, type Server } from 'node:http';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import type { ScanSummary } from '../../src/inventory/summary.js';
import type { Haystack } from './capture.js';

export interface RecordingProxy {
  endpoint: string;
  /** Every exchange: the request path, the request body and the (gunzipped) response body. */
  exchanges: { path: string; req: string; res: string }[];
  close(): Promise<void>;
}

/**
 * An HTTP proxy in front of a backend that keeps every request and response body. `fault` may
 * answer a request itself instead (an injected backend error), recorded like any other exchange.
 */
export async function startRecordingProxy(
  target: string,
  fault?: (method: string, path: string) => { status: number; body: string } | null,
): Promise<RecordingProxy> {
  const t = new URL(target);
  const exchanges: RecordingProxy['exchanges'] = [];
  const server: Server = createServer((req, res) => {
    const reqChunks: Buffer[] = [];
    req.on('data', (c: Buffer) => reqChunks.push(c));
    req.on('end', () => {
      const reqBody = Buffer.concat(reqChunks);
      const injected = fault?.(req.method ?? '', req.url ?? '');
      if (injected) {
        exchanges.push({ path: req.url ?? '', req: reqBody.toString('utf8'), res: injected.body });
        res.writeHead(injected.status, { 'Content-Type': 'application/json' });
        res.end(injected.body);
        return;
      }
      const up = request(
        { host: t.hostname, port: t.port, path: req.url, method: req.method, headers: req.headers },
        (upRes: IncomingMessage) => {
          const chunks: Buffer[] = [];
          upRes.on('data', (c: Buffer) => chunks.push(c));
          upRes.on('end', () => {
            const raw = Buffer.concat(chunks);
            const gz = upRes.headers['content-encoding'] === 'gzip';
            exchanges.push({
              path: req.url ?? '',
              req: reqBody.toString('utf8'),
              res: (gz ? gunzipSync(raw) : raw).toString('utf8'),
            });
            res.writeHead(upRes.statusCode ?? 502, upRes.headers);
            res.end(raw);
          });
        },
      );
      up.on('error', (err) => {
        res.writeHead(502);
        res.end(String(err));
      });
      up.end(reqBody);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    endpoint: `http://127.0.0.1:${port}`,
    exchanges,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export const xmlText = (s: string) =>
  s
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&apos;/g, "'")
    .replace(/&amp;/g, '&');

/** SecretAccessKey and SessionToken values in the recorded STS responses. */
export function wireSecrets(bodies: readonly string[]): { secretAccessKeys: string[]; sessionTokens: string[] } {
  const all = (tag: string) =>
    [
      ...new Set(bodies.flatMap((b) => [...b.matchAll(new RegExp(`<${tag}>([^<]+)</${tag}>`, 'g'))].map((m) => m[1]!))),
    ].map(xmlText);
  return { secretAccessKeys: all('SecretAccessKey'), sessionTokens: all('SessionToken') };
}

export function filesUnder(dir: string): Haystack[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .map((rel) => join(dir, rel))
    .filter((p) => statSync(p).isFile())
    .map((p) => ({ where: `file ${p}`, text: readFileSync(p, 'utf8') }));
}

export async function waitForSummary(get: () => Promise<ScanSummary | null>, timeoutMs: number): Promise<ScanSummary> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const s = await get();
    if (s && s.status !== 'running') return s;
    if (Date.now() > deadline) throw new Error(`scan did not finish within ${timeoutMs} ms`);
    await new Promise((res) => setTimeout(res, 100));
  }
}
