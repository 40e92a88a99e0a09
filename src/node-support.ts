/**
 * The Node runtime notice, said once, in one line, in credwarden's words.
 *
 * Node 20 reached end-of-life in April 2026, and AWS SDK for JavaScript v3 releases published after
 * the first week of January 2027 need Node 22. The SDK says so itself whenever it builds a client
 * (`emitWarningIfUnsupportedVersion` in @aws-sdk/core): an 8-line `process.emitWarning` on stderr,
 * plus Node's `--trace-warnings` hint, in every process that touches AWS. credwarden says it once
 * per process, as one log line, right before the first SDK client is built, and only then sets
 * `AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED` (which the SDK reads at client construction)
 * so the SDK's own copy is not printed as well.
 * Someone who set that variable already chose not to hear it: then nothing is said.
 */
import type { Logger } from './logger.js';

export const SDK_WARNING_ENV = 'AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED';
const NEEDED_MAJOR = 22;

let said = false;

export function nodeSupportNotice(version: string): string | null {
  const major = Number.parseInt(version.replace(/^v/, ''), 10);
  if (!Number.isFinite(major) || major >= NEEDED_MAJOR) return null;
  return `Node ${major} is past end-of-life and AWS SDK releases from January 2027 need Node ${NEEDED_MAJOR}: run credwarden on Node 22 or 24`;
}

/** Before the first AWS SDK client of this process: our one line, then the SDK's own copy off. */
export function beforeFirstAwsClient(
  log: Pick<Logger, 'warn'>,
  env: NodeJS.ProcessEnv = process.env,
  version = process.version,
): void {
  if (said) return;
  said = true;
  if (env[SDK_WARNING_ENV] === 'true') return;
  const notice = nodeSupportNotice(version);
  if (!notice) return;
  log.warn({ node: version }, notice);
  env[SDK_WARNING_ENV] = 'true';
}
