/**
 * The `api` section of credwarden.yaml (DESIGN "Contracts"):
 *
 *   api:
 *     listen: 127.0.0.1:8080          # loopback by default; another address is a choice made here
 *     tls: { cert: tls/api.crt, key: tls/api.key }   # optional; paths beside the config
 *     tokens:
 *       - { subject: alice, roles: [oncall], hash: "scrypt$32768$8$1$…" }   # credwarden api token-hash
 *     oidc:                           # optional: also accept JWTs from an OpenID Connect issuer
 *       issuer: https://login.example.com/                         # exact `iss`
 *       jwksUrl: https://login.example.com/.well-known/jwks.json   # https (http: loopback only)
 *       audience: credwarden                                       # `aud` must contain it
 *       roleMap: { sec-oncall: oncall, sec-admins: admin }         # rolesClaim value -> role
 *     slack:                          # optional: Slack interactive approvals (slack-config.ts)
 *       signingSecret: ${env:CW_SLACK_SIGNING_SECRET}
 *       users: { U012AB3CD: alice }   # Slack user id -> subject (its roles: that api.tokens entry's)
 *
 * A token is held only as its hash: a value that is not one (a pasted token) is refused with the
 * key that holds it, and nothing starts. OIDC is verified with the issuer's public keys only: a
 * shared-secret (HS*) or `none` algorithm is refused at load.
 */
import { z } from 'zod';
import { ROLES } from './roles.js';
import { SlackSchema, slackUserIssues } from './slack-config.js';
import { hashProblem } from './tokens.js';

/** The asymmetric JWS algorithms an OIDC token may be signed with (jose names). */
export const OIDC_ALGORITHMS = [
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'ES256',
  'ES384',
  'ES512',
  'EdDSA',
  'Ed25519',
] as const;
export type OidcAlgorithm = (typeof OIDC_ALGORITHMS)[number];

const LOOPBACK_HOSTS = new Set(['127.0.0.1', '[::1]', 'localhost']);

/** Why `value` is not a JWKS URL credwarden will fetch keys from, or null. */
export function jwksUrlProblem(value: string): string | null {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return 'is not a URL';
  }
  if (url.username || url.password) return 'must not carry credentials';
  if (url.protocol === 'https:') return null;
  if (url.protocol === 'http:')
    return LOOPBACK_HOSTS.has(url.hostname)
      ? null
      : 'must be https (http only for a loopback host: 127.0.0.1, ::1, localhost)';
  return 'must be an https URL';
}

const required = (what: string) => (iss: { input?: unknown }) =>
  iss.input === undefined ? `is required: ${what}` : undefined;

/** A top-level claim name (namespaced names like `https://example.com/groups` allowed). */
const claimName = z.string().regex(/^[\x21-\x7e]{1,128}$/, 'must be a claim name (printable, no spaces)');

const OidcSchema = z.strictObject({
  issuer: z.string({ error: required('the exact `iss` of the tokens') }).min(1),
  jwksUrl: z.string({ error: required("the issuer's JWKS URL") }).superRefine((v, ctx) => {
    const problem = jwksUrlProblem(v);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  }),
  audience: z.string({ error: required('the `aud` value tokens for credwarden carry') }).min(1),
  subjectClaim: claimName.default('sub'),
  rolesClaim: claimName.default('groups'),
  roleMap: z
    .record(z.string().min(1).max(256), z.enum(ROLES), {
      error: required('a map of rolesClaim values to roles (viewer, auditor, oncall, admin)'),
    })
    .refine((m) => Object.keys(m).length > 0, 'must map at least one claim value to a role'),
  algorithms: z
    .array(
      z.string().superRefine((alg, ctx) => {
        if (/^HS/i.test(alg) || alg.toLowerCase() === 'none')
          ctx.addIssue({
            code: 'custom',
            message: `${alg} is refused: OIDC tokens are verified with the issuer's public keys only, never a shared secret or no signature`,
          });
        else if (!(OIDC_ALGORITHMS as readonly string[]).includes(alg))
          ctx.addIssue({ code: 'custom', message: `must be one of ${OIDC_ALGORITHMS.join(', ')}` });
      }),
    )
    .min(1)
    .default(['RS256', 'ES256', 'EdDSA'])
    .transform((a) => [...new Set(a)] as OidcAlgorithm[]),
  clockToleranceSeconds: z.number().int().min(0).max(300).default(30),
});

export type OidcConfig = z.infer<typeof OidcSchema>;

export const ListenSchema = z
  .string()
  .regex(/^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/, 'must be host:port (e.g. 127.0.0.1:8080)')
  .refine((v) => {
    const port = Number(v.slice(v.lastIndexOf(':') + 1));
    return port >= 1 && port <= 65_535;
  }, 'has a port out of 1..65535');

const TokenSchema = z.strictObject({
  subject: z
    .string()
    .min(1)
    .max(128)
    .regex(/^[A-Za-z0-9._@+-]+$/, 'must be letters, digits and . _ @ + -'),
  roles: z.array(z.enum(ROLES)).min(1),
  hash: z.string().superRefine((h, ctx) => {
    const problem = hashProblem(h);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  }),
});

export const ApiSchema = z
  .strictObject({
    listen: ListenSchema.default('127.0.0.1:8080'),
    tls: z.strictObject({ cert: z.string().min(1), key: z.string().min(1) }).optional(),
    tokens: z.array(TokenSchema).default([]),
    /** Requests per minute per subject (per client address before authentication). */
    rateLimit: z.strictObject({ perMinute: z.number().int().min(1).max(1_000_000).default(600) }).prefault({}),
    oidc: OidcSchema.optional(),
    slack: SlackSchema.optional(),
  })
  .superRefine((a, ctx) => {
    for (const issue of slackUserIssues(a)) ctx.addIssue({ code: 'custom', ...issue });
    const seen = new Map<string, number>();
    a.tokens.forEach((t, i) => {
      const first = seen.get(t.subject);
      if (first !== undefined)
        ctx.addIssue({
          code: 'custom',
          path: ['tokens', i, 'subject'],
          message: `repeats the subject of tokens[${first}]: one entry per subject`,
        });
      else seen.set(t.subject, i);
    });
  });

export type ApiConfig = z.infer<typeof ApiSchema>;

/** Host and port of `listen`. */
export function listenAddress(listenValue: string): { host: string; port: number } {
  const at = listenValue.lastIndexOf(':');
  const host = listenValue.slice(0, at).replace(/^\[|\]$/g, '');
  return { host, port: Number(listenValue.slice(at + 1)) };
}
