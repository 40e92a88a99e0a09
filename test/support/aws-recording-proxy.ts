/**
 * A recording HTTP proxy in front of moto for the AWS Query APIs (IAM, STS): every request is
 * buffered, forwarded unchanged to `target`, and recorded with its form parameters (`Action`,
 * `AccessKeyId`, `Status`, `UserName`, …) and moto's status. So a test counts what the emulator
 * was asked to do (e.g. UpdateAccessKey calls per key), whichever process asked. moto itself is
 * not touched: it executes every request it gets.
 *
 * Hooks, for fault trials (set per trial, cleared by reset()):
 * - `beforeForward(entry)`: awaited before the request goes to moto (e.g. to look at the audit
 *   log at the moment an action reaches the backend);
 * - `holdMs(entry)`: how long to hold moto's answer back from the caller once moto has executed the
 *   request (a caller killed meanwhile dies after the change, before it saw the response).
 * An entry is logged when the request arrives (status 0, respondedAt 0 while moto works on it), and
 * completed when moto has answered (or the forward failed: status 502). `executed()` counts only
 * what moto answered 2xx.
 */
import { createServer, request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';

export interface AwsCall {
  /** The Query `Action` (empty for a request that is not a form post, e.g. /moto-api/). */
  action: string;
  params: Record<string, string>;
  status: number;
  /** Date.now() when the proxy received the request and when moto's answer arrived. */
  receivedAt: number;
  respondedAt: number;
  /** Free-form notes a beforeForward hook attaches. */
  notes: Record<string, unknown>;
}

export interface AwsRecordingProxy {
  address: string;
  readonly log: AwsCall[];
  /** Calls with this action (and, when given, these parameter values), in flight ones included. */
  calls(action: string, where?: Record<string, string>): AwsCall[];
  /** Calls moto answered with a 2xx: the ones it executed. */
  executed(action: string, where?: Record<string, string>): AwsCall[];
  beforeForward: ((c: AwsCall) => Promise<void>) | null;
  holdMs: ((c: AwsCall) => number) | null;
  /** Clears the log and the hooks. */
  reset(): void;
  close(): Promise<void>;
}

/** Parameters worth keeping (the rest of a Query body is the SDK's own: Version, …). */
const KEPT = new Set(['Action', 'AccessKeyId', 'Status', 'UserName', 'RoleArn', 'PolicyArn', 'PolicyName']);

function parseForm(body: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of new URLSearchParams(body)) if (KEPT.has(k)) out[k] = v;
  return out;
}

export async function startAwsRecordingProxy(target: string): Promise<AwsRecordingProxy> {
  const to = new URL(target);
  const log: AwsCall[] = [];
  const proxy: AwsRecordingProxy = {
    address: '',
    log,
    calls: (action, where = {}) =>
      log.filter((c) => c.action === action && Object.entries(where).every(([k, v]) => c.params[k] === v)),
    executed: (action, where) => proxy.calls(action, where).filter((c) => c.status >= 200 && c.status < 300),
    beforeForward: null,
    holdMs: null,
    reset: () => {
      log.length = 0;
      proxy.beforeForward = null;
      proxy.holdMs = null;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };

  const server = createServer((req, res) => {
    // A caller SIGKILLed mid-request resets its socket: that is the point of these trials.
    req.on('error', () => undefined);
    res.on('error', () => undefined);
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      void (async () => {
        const body = Buffer.concat(chunks);
        const params = parseForm(body.toString('utf8'));
        const entry: AwsCall = {
          action: params.Action ?? '',
          params,
          status: 0,
          receivedAt: Date.now(),
          respondedAt: 0,
          notes: {},
        };
        log.push(entry);
        try {
          await proxy.beforeForward?.(entry);
        } catch (err) {
          entry.notes.hookError = (err as Error).message;
        }
        const headers: IncomingHttpHeaders = { ...req.headers, host: to.host, 'content-length': String(body.length) };
        const upstream = httpRequest(
          { host: to.hostname, port: to.port, method: req.method, path: req.url, headers },
          (up) => {
            const parts: Buffer[] = [];
            up.on('data', (c: Buffer) => parts.push(c));
            up.on('end', () => {
              entry.status = up.statusCode ?? 0;
              entry.respondedAt = Date.now();
              const hold = proxy.holdMs?.(entry) ?? 0;
              void (hold > 0 ? sleep(hold) : Promise.resolve()).then(() => {
                if (res.destroyed) return; // the caller died meanwhile
                res.writeHead(up.statusCode ?? 502, up.headers);
                res.end(Buffer.concat(parts));
              });
            });
          },
        );
        upstream.on('error', (err) => {
          entry.status = 502;
          entry.respondedAt = Date.now();
          if (res.destroyed) return;
          res.writeHead(502, { 'content-type': 'text/plain' });
          res.end(`aws recording proxy: ${err.message}`);
        });
        upstream.end(body);
      })();
    });
  });
  server.on('clientError', (_err, socket) => socket.destroy());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  proxy.address = `http://127.0.0.1:${port}`;
  return proxy;
}
