/**
 * Capturing what the service emits, for tests that inspect every output (DESIGN invariant 1 and the
 * log tests):
 * - captureIo(): a CLI Io that keeps stdout and stderr lines;
 * - lineSink(): a pino destination that keeps every log line;
 * - dumpRedisPrefix(): every key under a prefix, whatever its type, flattened to text;
 * - findLeaks(): where any planted canary (or its URL-encoded, JSON-escaped or base64 form) occurs.
 */
import { Writable } from 'node:stream';
import type { Io } from '../../src/cli/context.js';
import type { RedisClient } from '../../src/queue/connection.js';
import { keysOfPrefix } from './redis.js';

export interface CapturedIo extends Io {
  stdout: string[];
  stderr: string[];
}

export function captureIo(): CapturedIo {
  const stdout: string[] = [];
  const stderr: string[] = [];
  return { stdout, stderr, out: (s) => stdout.push(s), err: (s) => stderr.push(s), stderrIsTty: false };
}

export interface LineSink extends Writable {
  lines: string[];
}

/** A Writable that records each written chunk split into lines (pino writes one JSON line per call). */
export function lineSink(): LineSink {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer | string, _enc, cb) {
      for (const l of String(chunk).split('\n')) if (l.trim()) lines.push(l);
      cb();
    },
  }) as LineSink;
  sink.lines = lines;
  return sink;
}

/** One piece of output to search, and where it came from (for failure messages). */
export interface Haystack {
  where: string;
  text: string;
}

/**
 * Every key under `prefix` (`<prefix>*`, and `{<prefix>*` on a cluster: keysOfPrefix), read with the command for its type. An
 * unexpected type throws, so a new kind of key can never be skipped silently.
 */
export async function dumpRedisPrefix(redis: RedisClient, prefix: string): Promise<Haystack[]> {
  const keys = await keysOfPrefix(redis, prefix);
  const out: Haystack[] = [];
  for (const key of [...new Set(keys)].sort()) {
    const type = await redis.type(key);
    let body: unknown;
    switch (type) {
      case 'string':
        body = await redis.get(key);
        break;
      case 'hash':
        body = await redis.hgetall(key);
        break;
      case 'list':
        body = await redis.lrange(key, 0, -1);
        break;
      case 'set':
        body = await redis.smembers(key);
        break;
      case 'zset':
        body = await redis.zrange(key, 0, -1, 'WITHSCORES');
        break;
      case 'stream':
        body = await redis.xrange(key, '-', '+');
        break;
      case 'none':
        continue; // expired or deleted between SCAN and TYPE
      default:
        throw new Error(`dumpRedisPrefix: key ${key} has type ${type}, which this dump does not read`);
    }
    out.push({ where: `redis ${type} ${key}`, text: `${key}\n${JSON.stringify(body)}` });
  }
  return out;
}

export interface Canary {
  label: string;
  value: string;
}

/** The forms a secret could take on its way into an output. */
function variants(value: string): string[] {
  return [
    ...new Set([
      value,
      encodeURIComponent(value),
      JSON.stringify(value).slice(1, -1),
      Buffer.from(value).toString('base64'),
      Buffer.from(value).toString('hex'),
    ]),
  ];
}

export interface Leak {
  canary: string;
  where: string;
  form: number;
}

/** Every (canary, output) pair where the canary occurs in any of its forms. */
export function findLeaks(canaries: Canary[], haystacks: Haystack[]): Leak[] {
  const leaks: Leak[] = [];
  for (const c of canaries) {
    if (c.value.length < 8) throw new Error(`canary ${c.label} is too short to search for safely: "${c.value}"`);
    const forms = variants(c.value);
    for (const h of haystacks) {
      const form = forms.findIndex((f) => h.text.includes(f));
      if (form >= 0) leaks.push({ canary: c.label, where: h.where, form });
    }
  }
  return leaks;
}
