/**
 * The demo's AWS estate, seeded into moto: three accounts reached through AssumeRole, registered
 * and unregistered agents, humans who must stay out of the inventory, a key held in a group with
 * broad rights, and an agent that quietly gave itself IAM write access.
 */
import { createGroup, createPolicy, createRole, createUser, doc, seederFor } from '../../test/support/aws-seed.js';

export const DEMO_ACCOUNTS = { prod: '111111111111', staging: '222222222222', sandbox: '333333333333' };

export async function seedDemoAws(endpoint: string): Promise<void> {
  const prod = await seederFor(endpoint, DEMO_ACCOUNTS.prod);
  const readS3 = await createPolicy(prod, 'agents-s3-read', doc(['s3:GetObject', 's3:ListBucket']));
  const boundary = await createPolicy(prod, 'agent-boundary', doc(['s3:*', 'dynamodb:*', 'sqs:*']));
  await createGroup(prod, 'agents', { 'agents-logs': doc(['logs:PutLogEvents']) }, [readS3]);
  await createUser(
    prod,
    {
      name: 'svc-invoice-bot',
      groups: ['agents'],
      inline: {
        'invoice-write': doc(['s3:PutObject']),
        'self-service': doc(['iam:CreateAccessKey', 'iam:AttachUserPolicy']),
      },
      keys: ['used', 'inactive'],
    },
    endpoint,
  );
  await createUser(
    prod,
    { name: 'agent-scraper', tags: { agent: 'true' }, inline: { everything: doc(['*']) }, keys: ['active'] },
    endpoint,
  );
  await createUser(prod, { name: 'svc-reporting-bot', password: true, keys: [] }, endpoint);
  await createUser(prod, { name: 'alice', password: true, keys: ['used'] }, endpoint);
  await createRole(
    prod,
    {
      name: 'support-copilot-prod',
      inline: { tickets: doc(['dynamodb:GetItem', 'dynamodb:Query', 'dynamodb:Scan']) },
      boundary,
      use: true,
      maxSessionDuration: 3600,
    },
    endpoint,
  );
  await createRole(prod, { name: 'ops-breakglass', inline: { admin: doc(['*']) } }, endpoint);
  prod.iam.destroy();

  const staging = await seederFor(endpoint, DEMO_ACCOUNTS.staging);
  await createUser(
    staging,
    {
      name: 'svc-deploy-agent',
      inline: { deploy: doc(['ecs:UpdateService', 'ecr:GetAuthorizationToken', 'iam:PassRole']) },
      keys: ['used', 'active'],
    },
    endpoint,
  );
  await createRole(
    staging,
    { name: 'deploy-agent-role', inline: { deploy: doc(['ecs:*']) }, maxSessionDuration: 43200 },
    endpoint,
  );
  await createRole(staging, { name: 'agent-experiment-7', inline: { s3: doc(['s3:*']) } }, endpoint);
  staging.iam.destroy();

  const sandbox = await seederFor(endpoint, DEMO_ACCOUNTS.sandbox);
  await createUser(
    sandbox,
    {
      name: 'etl-runner',
      tags: { 'agent-id': 'data-etl' },
      inline: { glue: doc(['glue:StartJobRun', 's3:GetObject']) },
      keys: ['active'],
    },
    endpoint,
  );
  await createUser(sandbox, { name: 'bob', keys: ['active'] }, endpoint);
  sandbox.iam.destroy();
}
