/**
 * A recording HTTP proxy for a real server that keeps no request log of its own (OpenBao cannot
 * enable an audit device over its API): every request is forwarded unchanged to `target` and
 * recorded (method, path without /v1/ and query, `list` query value, X-Vault-Namespace, status).
 * Built on node:http, which itself refuses the LIST verb, so a client that sent one would fail
 * here. The response goes back with the target's status, headers and body.
 */
import { createServer, request as httpRequest, type IncomingHttpHeaders } from 'node:http';

export interface RecordedRequest {
  method: string;
  /** Without `/v1/` and without the query string. */
  path: string;
  /** The `list` query parameter, or null. */
  list: string | null;
  namespace: string;
  status: number;
}

export interface RecordingProxy {
  address: string;
  readonly log: RecordedRequest[];
  clear(): void;
  close(): Promise<void>;
}

export async function startRecordingProxy(target: string): Promise<RecordingProxy> {
  const to = new URL(target);
  const log: RecordedRequest[] = [];
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://proxy');
    const entry: RecordedRequest = {
      method: req.method ?? '',
      path: url.pathname.replace(/^\/v1\//, ''),
      list: url.searchParams.get('list'),
      namespace: String(req.headers['x-vault-namespace'] ?? ''),
      status: 0,
    };
    const headers: IncomingHttpHeaders = { ...req.headers, host: to.host };
    const upstream = httpRequest(
      { host: to.hostname, port: to.port, method: req.method, path: req.url, headers },
      (up) => {
        entry.status = up.statusCode ?? 0;
        log.push(entry);
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.pipe(res);
      },
    );
    upstream.on('error', (err) => {
      entry.status = 502;
      log.push(entry);
      res.writeHead(502, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ errors: [`recording proxy: ${err.message}`] }));
    });
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    address: `http://127.0.0.1:${port}`,
    log,
    clear: () => {
      log.length = 0;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
