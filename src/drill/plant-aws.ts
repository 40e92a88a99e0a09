/**
 * AWS drills: an IAM user on the path `/credwarden-drill/` in the ONE drill account, tagged
 * `credwarden-drill=<drill id>` and made to look like an agent by the registry's own rules (look.ts).
 *
 * - admin-key: the user gets AdministratorAccess, then an access key (the key is the risk).
 * - self-escalation: the user gets a key and a harmless inline policy; after a first scan, an
 *   inline policy allowing iam:AttachUserPolicy on ITSELF (escalate()).
 *
 * Every resource is recorded (intent) before it is created, by exact name. Removal acts only on a
 * user that still carries this drill's tag and path (a live re-check), and removes what that user
 * holds: its keys (a rotation may have added one), policies and login profile, then the user.
 * The key's secret is dropped at once: nothing ever reads or stores it.
 */
import {
  AttachUserPolicyCommand,
  CreateAccessKeyCommand,
  CreateUserCommand,
  DeleteAccessKeyCommand,
  DeleteLoginProfileCommand,
  DeleteUserCommand,
  DeleteUserPolicyCommand,
  DetachUserPolicyCommand,
  GetUserCommand,
  ListAccessKeysCommand,
  ListAttachedUserPoliciesCommand,
  ListUserPoliciesCommand,
  PutUserPolicyCommand,
} from '@aws-sdk/client-iam';
import { IamCalls, type IamClientsFor } from '../actions/aws-port-calls.js';
import { CwError, ErrorCodes } from '../errors.js';
import { awsAccessKeyId } from '../model/ids.js';
import { DRILL_PATH, DRILL_TAG, type PlantContext, type Planter, type Removal } from './planter.js';
import type { PlantedResource } from './store.js';

const ADMIN = 'arn:aws:iam::aws:policy/AdministratorAccess';
const HARMLESS = JSON.stringify({
  Version: '2012-10-17',
  Statement: [{ Effect: 'Allow', Action: 'sts:GetCallerIdentity', Resource: '*' }],
});

export class AwsDrillPlanter implements Planter {
  private readonly io: IamCalls;

  constructor(
    private readonly account: string,
    clientsFor: IamClientsFor,
  ) {
    this.io = new IamCalls(clientsFor);
  }

  get calls() {
    return this.io.calls;
  }

  async plant(ctx: PlantContext): Promise<void> {
    const user = ctx.look.aws.userName;
    const src = this.account;
    await ctx.intent([{ kind: 'aws-user', id: user, source: src }]);
    await this.io.send(src, 'CreateUser', user, (iam) =>
      iam.send(
        new CreateUserCommand({
          UserName: user,
          Path: DRILL_PATH,
          Tags: Object.entries({ ...ctx.look.aws.tags, [DRILL_TAG]: ctx.drillId }).map(([Key, Value]) => ({
            Key,
            Value,
          })),
        }),
      ),
    );
    if (ctx.scenario === 'admin-key') {
      await ctx.intent([{ kind: 'aws-attached-policy', id: ADMIN, source: src, parent: user }]);
      await this.io.send(src, 'AttachUserPolicy', user, (iam) =>
        iam.send(new AttachUserPolicyCommand({ UserName: user, PolicyArn: ADMIN })),
      );
    } else {
      await ctx.intent([{ kind: 'aws-inline-policy', id: 'credwarden-drill-baseline', source: src, parent: user }]);
      await this.io.send(src, 'PutUserPolicy', user, (iam) =>
        iam.send(
          new PutUserPolicyCommand({
            UserName: user,
            PolicyName: 'credwarden-drill-baseline',
            PolicyDocument: HARMLESS,
          }),
        ),
      );
    }
    // The key's id is known only once it exists; removal takes every key of the drill's own user.
    await ctx.intent([{ kind: 'aws-access-key', id: '*', source: src, parent: user }]);
    const out = await this.io.send(src, 'CreateAccessKey', user, (iam) =>
      iam.send(new CreateAccessKeyCommand({ UserName: user })),
    );
    const keyId = out?.AccessKey?.AccessKeyId;
    if (!keyId) throw new CwError(ErrorCodes.AWS, `account ${src}: CreateAccessKey ${user} returned no key id`);
    await ctx.planted([
      { kind: 'aws-access-key', id: keyId, source: src, parent: user, credentialId: awsAccessKeyId(src, keyId) },
    ]);
  }

  async escalate(ctx: PlantContext): Promise<void> {
    const user = ctx.look.aws.userName;
    const src = this.account;
    const got = await this.io.send(src, 'GetUser', user, (iam) => iam.send(new GetUserCommand({ UserName: user })));
    const arn = got?.User?.Arn;
    if (!arn) throw new CwError(ErrorCodes.AWS, `account ${src}: the drill user ${user} has no ARN`);
    const doc = JSON.stringify({
      Version: '2012-10-17',
      Statement: [{ Effect: 'Allow', Action: 'iam:AttachUserPolicy', Resource: arn }],
    });
    await ctx.intent([{ kind: 'aws-inline-policy', id: 'credwarden-drill-escalate', source: src, parent: user }]);
    await this.io.send(src, 'PutUserPolicy', user, (iam) =>
      iam.send(
        new PutUserPolicyCommand({ UserName: user, PolicyName: 'credwarden-drill-escalate', PolicyDocument: doc }),
      ),
    );
  }

  async remove(drillId: string, planted: readonly PlantedResource[], out: Removal): Promise<void> {
    for (const r of planted.filter((p) => p.kind === 'aws-user')) {
      if (r.source !== this.account)
        out.failed.push({
          id: `aws user ${r.id}`,
          error: `planted in account ${r.source}, but drills.aws.account is now ${this.account}: remove it by hand`,
        });
      else await this.removeUser(drillId, r.id, out);
    }
  }

  private async removeUser(drillId: string, user: string, out: Removal): Promise<void> {
    const src = this.account;
    const got = await this.io.send(
      src,
      'GetUser',
      user,
      (iam) => iam.send(new GetUserCommand({ UserName: user })),
      'null',
    );
    if (!got?.User) {
      out.gone.push(`aws user ${user}`);
      return;
    }
    const tag = got.User.Tags?.find((t) => t.Key === DRILL_TAG)?.Value;
    if (tag !== drillId || got.User.Path !== DRILL_PATH) {
      out.failed.push({
        id: `aws user ${user}`,
        error: `not removed: it does not carry ${DRILL_TAG}=${drillId} on path ${DRILL_PATH}, so it is not this drill's`,
      });
      return;
    }
    const step = async (what: string, fn: () => Promise<unknown>) => {
      try {
        await fn();
        out.removed.push(what);
      } catch (err) {
        out.failed.push({ id: what, error: (err as Error).message });
      }
    };
    const keys = await this.io.send(src, 'ListAccessKeys', user, (iam) =>
      iam.send(new ListAccessKeysCommand({ UserName: user })),
    );
    for (const k of keys?.AccessKeyMetadata ?? [])
      await step(`aws access key ${k.AccessKeyId}`, () =>
        this.io.send(src, 'DeleteAccessKey', user, (iam) =>
          iam.send(new DeleteAccessKeyCommand({ UserName: user, AccessKeyId: k.AccessKeyId! })),
        ),
      );
    const attached = await this.io.send(src, 'ListAttachedUserPolicies', user, (iam) =>
      iam.send(new ListAttachedUserPoliciesCommand({ UserName: user })),
    );
    for (const p of attached?.AttachedPolicies ?? [])
      await step(`aws attached policy ${p.PolicyArn} on ${user}`, () =>
        this.io.send(src, 'DetachUserPolicy', user, (iam) =>
          iam.send(new DetachUserPolicyCommand({ UserName: user, PolicyArn: p.PolicyArn! })),
        ),
      );
    const inline = await this.io.send(src, 'ListUserPolicies', user, (iam) =>
      iam.send(new ListUserPoliciesCommand({ UserName: user })),
    );
    for (const name of inline?.PolicyNames ?? [])
      await step(`aws inline policy ${name} on ${user}`, () =>
        this.io.send(src, 'DeleteUserPolicy', user, (iam) =>
          iam.send(new DeleteUserPolicyCommand({ UserName: user, PolicyName: name })),
        ),
      );
    await this.io.send(
      src,
      'DeleteLoginProfile',
      user,
      (iam) => iam.send(new DeleteLoginProfileCommand({ UserName: user })),
      'null',
    );
    await step(`aws user ${user}`, () =>
      this.io.send(src, 'DeleteUser', user, (iam) => iam.send(new DeleteUserCommand({ UserName: user }))),
    );
  }
}
