/**
 * The pure parts of rotation: a Secret never prints, the caller-ARN check that proves a new key
 * authenticates as the user it was made for, and the delivery's own remediation credentials.
 */
import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../src/logger.js';
import type { ActionTarget } from '../../src/model/action.js';
import type { DeliveryTarget } from '../../src/model/rotation.js';
import { remediationCredentialsFor } from '../../src/remediation/credentials.js';
import { arnIsUser } from '../../src/rotation/aws-key.rotator.js';
import { Secret } from '../../src/util/secret.js';

const VALUE = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';

describe('Secret', () => {
  const s = new Secret(VALUE);

  it('prints [secret] everywhere but reveal()', () => {
    expect(s.reveal()).toBe(VALUE);
    expect(JSON.stringify({ s, nested: [s] })).toBe('{"s":"[secret]","nested":["[secret]"]}');
    expect(`${s}`).toBe('[secret]');
    expect(String(s)).toBe('[secret]');
    expect(inspect({ s })).not.toContain(VALUE);
    expect(['key', s].join('=')).toBe('key=[secret]');
  });

  it('stays out of a pino log line', () => {
    const lines: string[] = [];
    const log = createLogger({ level: 'info', destination: { write: (l: string) => lines.push(l) } as never });
    log.info({ secret: s, data: { value: s } }, 'rotated');
    expect(lines.join('')).not.toContain(VALUE);
  });

  it('refuses an empty value', () => {
    expect(() => new Secret('')).toThrow(TypeError);
  });
});

describe(arnIsUser.name, () => {
  it.each([
    ['arn:aws:iam::111111111111:user/agent-a', true],
    ['arn:aws:iam::111111111111:user/path/to/agent-a', true],
    ['arn:aws-us-gov:iam::111111111111:user/agent-a', true],
    ['arn:aws:iam::222222222222:user/agent-a', false],
    ['arn:aws:iam::111111111111:user/agent-ab', false],
    ['arn:aws:sts::111111111111:assumed-role/agent-a/s', false],
    ['arn:aws:iam::111111111111:root', false],
    [null, false],
  ])('%s → %s', (arn, ok) => {
    expect(arnIsUser(arn, '111111111111', 'agent-a')).toBe(ok);
  });
});

describe(remediationCredentialsFor.name, () => {
  const target: ActionTarget = {
    credentialId: 'aws/111111111111/access-key/AKIAEXAMPLE000000001',
    kind: 'aws-access-key',
    sourceType: 'aws',
    source: '111111111111',
    principal: 'arn:aws:iam::111111111111:user/agent-a',
    identity: {},
  };
  const kv = (cluster: string): DeliveryTarget => ({
    type: 'vault',
    cluster,
    namespace: 'root',
    mount: 'secret',
    path: 'a',
  });
  const config = (remediationToken?: string) =>
    ({
      aws: { accounts: [{ id: '111111111111', remediationRoleArn: 'arn:aws:iam::111111111111:role/r' }] },
      vault: [{ name: 'main', ...(remediationToken ? { remediationToken } : {}) }],
    }) as unknown as Parameters<typeof remediationCredentialsFor>[0];

  it('needs the delivery cluster to hold a remediation token too', () => {
    expect(remediationCredentialsFor(config('t'), target, kv('main'))).toBeNull();
    expect(remediationCredentialsFor(config(), target, kv('main'))).toMatch(
      /delivery's vault cluster main has no remediationToken/,
    );
    expect(remediationCredentialsFor(config('t'), target, kv('other'))).toMatch(/cluster other is not configured/);
    expect(remediationCredentialsFor(config(), target)).toBeNull();
  });
});
