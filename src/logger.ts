import { type DestinationStream, type Logger, pino } from 'pino';

/**
 * Field names that may carry a secret anywhere in a log object. pino's redaction replaces them,
 * at any of the depths listed, with "[Redacted]". The canary test plants secrets under these
 * names and scans every output for them.
 */
export const SECRET_FIELDS = [
  'secretAccessKey',
  'SecretAccessKey',
  'sessionToken',
  'SessionToken',
  'secret_key',
  'session_token',
  'token',
  'client_token',
  'clientToken',
  'secret_id',
  'secretId',
  'password',
  'authorization',
  'Authorization',
  'X-Vault-Token',
  'x-vault-token',
  'externalId',
  'hmacKey',
  'signingSecret',
];

function redactPaths(): string[] {
  const paths: string[] = [];
  for (const f of SECRET_FIELDS) {
    const key = /^[A-Za-z_$][\w$]*$/.test(f) ? f : `["${f}"]`;
    const dot = key.startsWith('[') ? '' : '.';
    paths.push(key, `*${dot}${key}`, `*.*${dot}${key}`, `*.*.*${dot}${key}`);
  }
  return paths;
}

export interface LoggerOptions {
  level?: string;
  /** Where the JSON lines go; tests pass a sink. Defaults to stderr. */
  destination?: DestinationStream;
}

export function createLogger(opts: LoggerOptions = {}): Logger {
  return pino(
    {
      name: 'credwarden',
      level: opts.level ?? process.env.CW_LOG_LEVEL ?? 'info',
      redact: { paths: redactPaths(), censor: '[Redacted]' },
      base: undefined,
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    opts.destination ?? pino.destination(2),
  );
}

export type { Logger };
