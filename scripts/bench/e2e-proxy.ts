/**
 * A counting HTTP proxy in front of moto (moto counts nothing): every request is forwarded
 * unchanged and counted by `<service>:<Action>`, the service from the SigV4 credential scope of
 * its Authorization header (iam, sts), the Action from its Query form body. Counts only: no log
 * is kept, so 40,000 calls cost nothing but the counters. Responses are streamed back as they come.
 */
import { Agent, createServer, request as httpRequest } from 'node:http';

export interface CountingProxy {
  address: string;
  /** `<service>:<Action>` → requests so far (moto's answer not awaited; 5xx counted too). */
  counts(): Record<string, number>;
  /** Requests moto answered with a status >= 400. */
  errors(): number;
  reset(): void;
  close(): Promise<void>;
}

const SCOPE = /Credential=[^/,]+\/\d{8}\/[^/]+\/([^/]+)\//;

export async function startCountingProxy(target: string): Promise<CountingProxy> {
  const to = new URL(target);
  const agent = new Agent({ keepAlive: true, maxSockets: 128 });
  let counts = new Map<string, number>();
  let errors = 0;
  const server = createServer((req, res) => {
    req.on('error', () => undefined);
    res.on('error', () => undefined);
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const service = SCOPE.exec(String(req.headers.authorization ?? ''))?.[1] ?? 'unsigned';
      const action = new URLSearchParams(body.toString('utf8')).get('Action') ?? `${req.method} ${req.url}`;
      const key = `${service}:${action}`;
      counts.set(key, (counts.get(key) ?? 0) + 1);
      const upstream = httpRequest(
        {
          host: to.hostname,
          port: to.port,
          method: req.method,
          path: req.url,
          headers: { ...req.headers, host: to.host, 'content-length': String(body.length) },
          agent,
        },
        (up) => {
          if ((up.statusCode ?? 500) >= 400) errors++;
          res.writeHead(up.statusCode ?? 502, up.headers);
          up.pipe(res);
        },
      );
      upstream.on('error', (err) => {
        errors++;
        if (res.headersSent || res.destroyed) return res.destroy();
        res.writeHead(502, { 'content-type': 'text/plain' });
        res.end(`bench:e2e counting proxy: ${err.message}`);
      });
      upstream.end(body);
    });
  });
  server.on('clientError', (_err, socket) => socket.destroy());
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    address: `http://127.0.0.1:${port}`,
    counts: () => Object.fromEntries([...counts].sort((a, b) => b[1] - a[1])),
    errors: () => errors,
    reset: () => {
      counts = new Map();
      errors = 0;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
        agent.destroy();
      }),
  };
}
