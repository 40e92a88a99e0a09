/**
 * The shared skeleton of the local alert receivers: a node:http server on 127.0.0.1 and a free port
 * that reads each request's raw body, lets the receiver check it, records it, and answers.
 *
 * Answers: by default the receiver's own verdict (e.g. 202 for a valid PagerDuty event, 400 with
 * PagerDuty's error JSON otherwise). `respondWith([429, 500])` scripts the next answers' statuses
 * in order (then back to the default); `respondWith(fn)` decides every answer until replaced.
 */
import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Received {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  /** The exact body bytes (signatures are checked over these, never a re-serialisation)… */
  rawBytes: Buffer;
  /** …and the same decoded as UTF-8. */
  rawBody: string;
  /** The parsed JSON body, or undefined when the body is not JSON. */
  json: unknown;
  /** The status this receiver answered with. */
  status: number;
}

export interface Reply {
  status: number;
  body?: string | object;
  contentType?: string;
}

export type Responder<R extends Received> = (req: R) => Reply | number;

export interface Receiver<R extends Received> {
  url: string;
  requests: R[];
  respondWith(script: number[] | Responder<R>): void;
  close(): Promise<void>;
}

/**
 * `inspect` turns a request into the receiver's record (validation results included);
 * `natural` is the answer when nothing is scripted; `bodyFor` the body sent with a scripted status.
 */
export async function startReceiver<R extends Received>(opts: {
  inspect: (base: Omit<Received, 'status'>) => Omit<R, 'status'>;
  natural: (req: R) => Reply;
  bodyFor: (status: number, req: R) => Reply['body'];
}): Promise<Receiver<R>> {
  const requests: R[] = [];
  let queue: number[] = [];
  let responder: Responder<R> | null = null;

  const answer = (req: R): Reply => {
    const scripted = queue.shift();
    if (scripted !== undefined) return { status: scripted, body: opts.bodyFor(scripted, req) };
    if (responder) {
      const r = responder(req);
      return typeof r === 'number' ? { status: r, body: opts.bodyFor(r, req) } : r;
    }
    return opts.natural(req);
  };

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const rawBytes = Buffer.concat(chunks);
      const rawBody = rawBytes.toString('utf8');
      let json: unknown;
      try {
        json = JSON.parse(rawBody);
      } catch {
        json = undefined;
      }
      const base = { method: req.method ?? '', path: req.url ?? '', headers: req.headers, rawBytes, rawBody, json };
      const record = { ...opts.inspect(base), status: 0 } as R;
      const reply = answer(record);
      record.status = reply.status;
      requests.push(record);
      send(res, reply);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    respondWith(script) {
      if (Array.isArray(script)) queue = [...script];
      else responder = script;
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((err) => (err ? reject(err) : resolve()));
      }),
  };
}

function send(res: ServerResponse, reply: Reply): void {
  const isText = typeof reply.body === 'string' || reply.body === undefined;
  const body = reply.body === undefined ? '' : isText ? String(reply.body) : JSON.stringify(reply.body);
  const type = reply.contentType ?? (isText ? 'text/plain; charset=utf-8' : 'application/json');
  res.writeHead(reply.status, { 'Content-Type': type });
  res.end(body);
}
