/**
 * The double's wire layer: a minimal HTTP/1.1 server on raw `net`, because Node's http parser
 * rejects the LIST verb (vault-api.md §8.1). It accepts any token as a method, reads the request
 * line, headers and a Content-Length or chunked body, answers `Expect: 100-continue`, and keeps
 * connections alive (HTTP/1.1 default) with requests answered in order. Every response carries
 * `Content-Type: application/json`, including 204s, which have no body and no Content-Length.
 */
import net from 'node:net';

export interface WireRequest {
  method: string;
  /** The request target as sent: path plus query string. */
  target: string;
  /** Header names lower-cased; repeated headers joined with ", ". */
  headers: Map<string, string>;
  body: Buffer;
  remoteAddress: string;
}

export interface WireResponse {
  status: number;
  body: string;
  headers?: Record<string, string>;
}

export type WireHandler = (req: WireRequest) => WireResponse | Promise<WireResponse>;

export interface WireServer {
  port: number;
  close(): Promise<void>;
}

const REASONS: Record<number, string> = {
  100: 'Continue',
  200: 'OK',
  202: 'Accepted',
  204: 'No Content',
  400: 'Bad Request',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  413: 'Payload Too Large',
  429: 'Too Many Requests',
  431: 'Request Header Fields Too Large',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

const MAX_HEAD = 64 * 1024;
const MAX_BODY = 32 * 1024 * 1024;
const HEAD_END = Buffer.from('\r\n\r\n');

class ProtocolError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

interface Head {
  method: string;
  target: string;
  version: string;
  headers: Map<string, string>;
}

function parseHead(text: string): Head {
  const lines = text.split('\r\n');
  const m = /^([!#$%&'*+.^_`|~0-9A-Za-z-]+) (\S+) HTTP\/(1\.[01])$/.exec(lines[0] ?? '');
  if (!m) throw new ProtocolError(400, 'malformed request line');
  const headers = new Map<string, string>();
  for (const line of lines.slice(1)) {
    const idx = line.indexOf(':');
    if (idx <= 0) throw new ProtocolError(400, 'malformed header');
    const name = line.slice(0, idx).trim().toLowerCase();
    const value = line.slice(idx + 1).trim();
    const prev = headers.get(name);
    headers.set(name, prev === undefined ? value : `${prev}, ${value}`);
  }
  return { method: m[1]!, target: m[2]!, version: m[3]!, headers };
}

/** Decode a complete chunked body, or return null when more bytes are needed. */
function decodeChunked(buf: Buffer, start: number): { body: Buffer; end: number } | null {
  const parts: Buffer[] = [];
  let pos = start;
  for (;;) {
    const lineEnd = buf.indexOf('\r\n', pos);
    if (lineEnd < 0) return null;
    const size = Number.parseInt(buf.subarray(pos, lineEnd).toString('latin1').split(';')[0]!.trim(), 16);
    if (!Number.isFinite(size) || size < 0) throw new ProtocolError(400, 'malformed chunk size');
    pos = lineEnd + 2;
    if (size === 0) {
      const trailerEnd = buf.indexOf('\r\n', pos);
      if (trailerEnd < 0) return null;
      if (trailerEnd === pos) return { body: Buffer.concat(parts), end: pos + 2 };
      const end = buf.indexOf(HEAD_END, pos);
      return end < 0 ? null : { body: Buffer.concat(parts), end: end + 4 };
    }
    if (buf.length < pos + size + 2) return null;
    parts.push(buf.subarray(pos, pos + size));
    pos += size + 2;
  }
}

function render(res: WireResponse, keepAlive: boolean): Buffer {
  const body = Buffer.from(res.body, 'utf8');
  const lines = [`HTTP/1.1 ${res.status} ${REASONS[res.status] ?? 'Unknown'}`];
  const headers: Record<string, string> = {
    'Cache-Control': 'no-store',
    'Content-Type': 'application/json',
    Date: new Date().toUTCString(),
    ...res.headers,
  };
  if (res.status !== 204 && res.status !== 100) headers['Content-Length'] = String(body.length);
  if (!keepAlive) headers.Connection = 'close';
  for (const [k, v] of Object.entries(headers)) lines.push(`${k}: ${v}`);
  const head = Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1');
  return res.status === 204 ? head : Buffer.concat([head, body]);
}

function serveConnection(socket: net.Socket, handler: WireHandler): void {
  let buf: Buffer = Buffer.alloc(0);
  let busy = false;
  let continued = false;
  const remoteAddress = socket.remoteAddress ?? '';

  const fail = (status: number, message: string): void => {
    socket.end(render({ status, body: JSON.stringify({ errors: [message] }) }, false));
    buf = Buffer.alloc(0);
  };

  const pump = async (): Promise<void> => {
    if (busy) return;
    busy = true;
    try {
      while (!socket.destroyed) {
        const headEnd = buf.indexOf(HEAD_END);
        if (headEnd < 0) {
          if (buf.length > MAX_HEAD) fail(431, 'request header too large');
          return;
        }
        const head = parseHead(buf.subarray(0, headEnd).toString('latin1'));
        const bodyStart = headEnd + 4;
        let body: Buffer;
        let end: number;
        if (head.headers.get('transfer-encoding')?.toLowerCase().includes('chunked')) {
          const chunked = decodeChunked(buf, bodyStart);
          if (!chunked) return maybeContinue(head);
          ({ body, end } = chunked);
        } else {
          const len = Number(head.headers.get('content-length') ?? '0');
          if (!Number.isInteger(len) || len < 0) throw new ProtocolError(400, 'invalid Content-Length');
          if (len > MAX_BODY) throw new ProtocolError(413, 'request body too large');
          if (buf.length < bodyStart + len) return maybeContinue(head);
          body = buf.subarray(bodyStart, bodyStart + len);
          end = bodyStart + len;
        }
        buf = buf.subarray(end);
        continued = false;
        const conn = head.headers.get('connection')?.toLowerCase() ?? '';
        const keepAlive = head.version === '1.1' ? !conn.includes('close') : conn.includes('keep-alive');
        let res: WireResponse;
        try {
          res = await handler({ method: head.method, target: head.target, headers: head.headers, body, remoteAddress });
        } catch (err) {
          res = { status: 500, body: JSON.stringify({ errors: [`internal error: ${(err as Error).message}`] }) };
        }
        if (socket.destroyed) return;
        if (keepAlive) socket.write(render(res, true));
        else {
          socket.end(render(res, false));
          return;
        }
      }
    } catch (err) {
      if (err instanceof ProtocolError) fail(err.status, err.message);
      else socket.destroy(err as Error);
    } finally {
      busy = false;
    }
  };

  const maybeContinue = (head: Head): void => {
    if (!continued && head.headers.get('expect')?.toLowerCase() === '100-continue') {
      continued = true;
      socket.write('HTTP/1.1 100 Continue\r\n\r\n');
    }
  };

  socket.setNoDelay(true);
  socket.on('data', (chunk: Buffer) => {
    buf = buf.length === 0 ? chunk : Buffer.concat([buf, chunk]);
    void pump().then(() => {
      if (!busy && buf.indexOf(HEAD_END) >= 0) void pump();
    });
  });
  socket.on('error', () => socket.destroy());
}

export function startWireServer(handler: WireHandler, host = '127.0.0.1', port = 0): Promise<WireServer> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    serveConnection(socket, handler);
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      const addr = server.address() as net.AddressInfo;
      resolve({
        port: addr.port,
        close: () =>
          new Promise<void>((done) => {
            for (const s of sockets) s.destroy();
            server.close(() => done());
          }),
      });
    });
  });
}
