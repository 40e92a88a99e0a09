/**
 * The audit log: a hash chain in Redis (redis-audit-log.ts) that several workers append to, an
 * optional JSONL file copy (jsonl-mirror.ts), and a pure verifier (verify.ts) for either.
 * Redis keys live under `<prefix>:audit:` (events stream, head hash, append claim, mirror locks).
 */
export type { AuditAppender, CatalogInput, Recorded } from './appender.js';
export {
  type AppendInput,
  type AuditEvent,
  type AuditEventInput,
  type AuditHead,
  type AuditMirror,
  type AuditReader,
  assertNoSecrets,
  buildEvent,
  canonicalJson,
  eventShapeProblem,
  GENESIS_HASH,
  hashEvent,
  type PreparedInput,
  parseEvent,
  prepareForAppend,
  prepareInput,
} from './event.js';
export { AUDIT_EVENT_TYPES, type AuditEventType, isAuditEventType } from './event-types.js';
export { JsonlMirror, type JsonlMirrorOptions, readJsonl, verifyJsonl } from './jsonl-mirror.js';
export { AuditMirrorError, RedisAuditLog, type RedisAuditLogOptions } from './redis-audit-log.js';
export {
  type BreakReason,
  type ChainBreak,
  ChainVerifier,
  type VerifyOptions,
  type VerifyResult,
  verifyChain,
  verifyChainAsync,
} from './verify.js';
