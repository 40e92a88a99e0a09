/**
 * IamCalls: how IamWritePort (aws-port.ts) sends each IAM operation in one account, and what it
 * makes of the answer.
 * - Reads of something absent (NoSuchEntity) are null; writes to it throw a permanent CwError.
 * - A denial throws CwError(AWS_ACCESS_DENIED) naming the IAM permission the call needs;
 *   throttling past the SDK's retries, 5xx and network errors throw retryable CwErrors.
 * - `calls` counts operations by `iam:<Operation>` (each page of a listing is one) and HTTP
 *   attempts (retries included, from the SDK's `$metadata.attempts`).
 */
import type { IAMClient } from '@aws-sdk/client-iam';
import { CwError, ErrorCodes } from '../errors.js';
import type { ApiCallCounts } from '../sources/api-calls.js';
import { awsErrorName, isAccessDenied, toCwError } from '../sources/aws/errors.js';
import { exactId } from './aws-support.js';
import type { IamPrincipal } from './ports.js';

/** The IAM client to act in one account with (throws when the account cannot be remediated). */
export type IamClientsFor = (account: string) => { iam: IAMClient };

const isNoSuchEntity = (err: unknown): boolean => ['NoSuchEntity', 'NoSuchEntityException'].includes(awsErrorName(err));

type Page = { IsTruncated?: boolean | undefined; Marker?: string | undefined };

export class IamCalls {
  readonly calls: ApiCallCounts = { total: 0, attempts: 0, byOperation: {} };

  constructor(private readonly clientsFor: IamClientsFor) {}

  /**
   * One IAM operation: counted, and its error classified. With `missing: 'null'` NoSuchEntity is
   * an answer (null), not an error.
   */
  async send<T>(
    account: string,
    op: string,
    subject: string,
    fn: (iam: IAMClient) => Promise<T>,
    missing: 'null' | 'throw' = 'throw',
  ): Promise<T | null> {
    const iam = this.clientsFor(account).iam;
    this.calls.total++;
    this.calls.byOperation[`iam:${op}`] = (this.calls.byOperation[`iam:${op}`] ?? 0) + 1;
    const attempts = (x: unknown) => (x as { $metadata?: { attempts?: number } })?.$metadata?.attempts ?? 1;
    try {
      const out = await fn(iam);
      this.calls.attempts += attempts(out);
      return out;
    } catch (err) {
      this.calls.attempts += attempts(err);
      if (missing === 'null' && isNoSuchEntity(err)) return null;
      const what = `account ${account}: ${op} ${subject}`;
      if (isAccessDenied(err))
        throw new CwError(
          ErrorCodes.AWS_ACCESS_DENIED,
          `${what} was denied: the remediation role needs iam:${op} (${awsErrorName(err)}: ${(err as Error)?.message ?? err})`,
          { cause: err },
        );
      throw toCwError(err, what);
    }
  }

  /** Every page of a Marker/IsTruncated listing, or null when the principal is gone. */
  async pages<P extends Page, T>(
    account: string,
    op: string,
    subject: string,
    page: (iam: IAMClient, marker: string | undefined) => Promise<P>,
    items: (p: P) => T[] | undefined,
  ): Promise<T[] | null> {
    const out: T[] = [];
    let marker: string | undefined;
    do {
      const m = marker;
      const p = await this.send(account, op, subject, (iam) => page(iam, m), 'null');
      if (p === null) return null;
      out.push(...(items(p) ?? []));
      marker = p.IsTruncated ? p.Marker : undefined;
    } while (marker);
    return out;
  }

  /** One call on a user or a role: the user form or the role form of the operation. */
  onPrincipal<U, R>(
    account: string,
    principal: IamPrincipal,
    ops: readonly [user: string, role: string],
    subject: string,
    user: (iam: IAMClient, UserName: string) => Promise<U>,
    role: (iam: IAMClient, RoleName: string) => Promise<R>,
    missing: 'null' | 'throw' = 'throw',
  ): Promise<U | R | null> {
    const isUser = principal.type === 'user';
    const name = exactId(isUser ? 'UserName' : 'RoleName', principal.name);
    const what = `${subject} ${principal.type} ${name}`;
    return isUser
      ? this.send(account, ops[0], what, (iam) => user(iam, name), missing)
      : this.send(account, ops[1], what, (iam) => role(iam, name), missing);
  }
}
