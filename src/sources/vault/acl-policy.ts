/**
 * Vault ACL policies: parse the HCL (or JSON) text Vault stores, and answer "which capabilities
 * does this set of policies grant on this path" the way Vault's `vault/acl.go` does.
 *
 * Parsing covers the HCL1 subset real policies use (`path "x" { ... }`, `#`, `//` and block
 * comments, nested `allowed_parameters = { "k" = [] }`, legacy `policy = "write"`) and JSON,
 * through one tokenizer so both report line numbers. Invalid input throws AclPolicyParseError.
 *
 * Matching: exact rules first (for LIST also the path without its trailing slash), then the
 * longest `*` prefix rule competing with `+` segment rules under Vault's priority order. Rules
 * that share a pattern are unioned, and `deny` in a merged rule removes every other capability.
 * A deny on a less specific pattern does NOT override a more specific allow (Vault semantics).
 */
export { CompiledAcl, hasCapabilities, matchAcl } from './acl-match.js';
export { parseAclPolicy, parseDurationSeconds } from './acl-parse.js';
export {
  type AclMatch,
  type AclPathRule,
  AclPolicyParseError,
  type AclRule,
  CAPABILITIES,
  type MatchOptions,
} from './acl-types.js';
