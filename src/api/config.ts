/**
 * The `api` section of credwarden.yaml (DESIGN "Contracts"):
 *
 *   api:
 *     listen: 127.0.0.1:8080          # loopback by default; another address is a choice made here
 *     tls: { cert: tls/api.crt, key: tls/api.key }   # optional; paths beside the config
 *     tokens:
 *       - { subject: alice, roles: [oncall], hash: "scrypt$32768$8$1$…" }   # credwarden api token-hash
 *
 * A token is held only as its hash: a value that is not one (a pasted token) is refused with the
 * key that holds it, and nothing starts.
 */
import { z } from 'zod';
import { ROLES } from './roles.js';
import { hashProblem } from './tokens.js';

const listen = z
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
    listen: listen.default('127.0.0.1:8080'),
    tls: z.strictObject({ cert: z.string().min(1), key: z.string().min(1) }).optional(),
    tokens: z.array(TokenSchema).default([]),
  })
  .superRefine((a, ctx) => {
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
