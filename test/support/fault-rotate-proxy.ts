/**
 * A hookable HTTP proxy for the rotation kill trials, in front of moto (IAM, STS) or OpenBao: every
 * request is buffered, forwarded unchanged and logged with what the trials match on:
 *   - method and path (no query; `/v1/` kept off for OpenBao paths: `secret/data/…`);
 *   - the AWS Query `Action` and a few form parameters (AccessKeyId, UserName, Status);
 *   - `signer`, the access key id in the SigV4 `Authorization: … Credential=<id>/…` header (which
 *     key signed an sts:GetCallerIdentity: the new key's proof, or the live re-check's role);
 *   - `created`, the key id in a CreateAccessKey answer.
 * `onAnswer(call)` runs once the backend has answered (the call is executed there) and before the
 * answer goes back: returning true withholds the answer (the hook SIGKILLed the caller, which
 * must die having the change made and not knowing it); the socket is destroyed a second later.
 *
 * test/support/aws-recording-proxy.ts does not see the signer nor the answer body, and
 * recording-proxy.ts has no hook: hence this one, for both backends.
 */
import { createServer, request as httpRequest, type IncomingHttpHeaders } from 'node:http';

export interface ProxiedCall {
  method: string;
  path: string;
  action: string;
  params: Record<string, string>;
  signer: string;
  status: number;
  created?: string;
  receivedAt: number;
  respondedAt: number;
}

export interface HookProxy {
  address: string;
  readonly log: ProxiedCall[];
  onAnswer: ((c: ProxiedCall) => boolean) | null;
  close(): Promise<void>;
}

const KEPT = new Set(['Action', 'AccessKeyId', 'UserName', 'Status']);
const WITHHELD_MS = 1_000;

export async function startHookProxy(target: string, opts: { stripV1?: boolean } = {}): Promise<HookProxy> {
  const to = new URL(target);
  const log: ProxiedCall[] = [];
  const server = createServer((req, res) => {
    // A caller SIGKILLed mid-request resets its socket: that is the point of these trials.
    req.on('error', () => undefined);
    res.on('error', () => undefined);
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const url = new URL(req.url ?? '/', 'http://proxy');
      const params: Record<string, string> = {};
      if (String(req.headers['content-type'] ?? '').includes('x-www-form-urlencoded'))
        for (const [k, v] of new URLSearchParams(body.toString('utf8'))) if (KEPT.has(k)) params[k] = v;
      const auth = String(req.headers.authorization ?? '');
      const call: ProxiedCall = {
        method: req.method ?? '',
        path: opts.stripV1 ? url.pathname.replace(/^\/v1\//, '') : url.pathname,
        action: params.Action ?? '',
        params,
        signer: /Credential=([^/]+)\//.exec(auth)?.[1] ?? '',
        status: 0,
        receivedAt: Date.now(),
        respondedAt: 0,
      };
      log.push(call);
      const headers: IncomingHttpHeaders = { ...req.headers, host: to.host, 'content-length': String(body.length) };
      const upstream = httpRequest(
        { host: to.hostname, port: to.port, method: req.method, path: req.url, headers },
        (up) => {
          const parts: Buffer[] = [];
          up.on('data', (c: Buffer) => parts.push(c));
          up.on('end', () => {
            const answer = Buffer.concat(parts);
            call.status = up.statusCode ?? 0;
            call.respondedAt = Date.now();
            if (call.action === 'CreateAccessKey')
              call.created = /<AccessKeyId>([^<]+)<\/AccessKeyId>/.exec(answer.toString('utf8'))?.[1];
            let withhold = false;
            try {
              withhold = proxy.onAnswer?.(call) ?? false;
            } catch {
              withhold = false;
            }
            if (withhold) {
              setTimeout(() => res.destroy(), WITHHELD_MS).unref();
              return;
            }
            if (res.destroyed) return;
            res.writeHead(up.statusCode ?? 502, up.headers);
            res.end(answer);
          });
        },
      );
      upstream.on('error', (err) => {
        call.status = 502;
        call.respondedAt = Date.now();
        if (res.destroyed) return;
        res.writeHead(502, { 'content-type': 'text/plain' });
        res.end(`fault-rotate proxy: ${err.message}`);
      });
      upstream.end(body);
    });
  });
  server.on('clientError', (_err, socket) => socket.destroy());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  const proxy: HookProxy = {
    address: `http://127.0.0.1:${port}`,
    log,
    onAnswer: null,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  return proxy;
}
