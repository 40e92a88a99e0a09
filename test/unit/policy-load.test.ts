/** Policy files: validated at load; one located error naming file, line and key. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadPolicies } from '../../src/policy/load.js';
import { defaultPacksDir } from '../../src/policy/packs.js';

function file(text: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'cw-pol-'));
  const f = join(dir, 'p.yaml');
  writeFileSync(f, text);
  return f;
}

const base = (rule: string, extra = '') => `policies:
  - name: p1
    description: d
    resource: { kinds: [aws-access-key] }
    rules:
${rule}
    severity: medium
${extra}`;

describe(loadPolicies.name, () => {
  it('should load the default packs', async () => {
    const set = await loadPolicies([defaultPacksDir()]);
    expect(set.policies.length).toBeGreaterThan(20);
    expect(new Set(set.policies.map((p) => p.pack))).toEqual(new Set(['agent-baseline', 'cis-aws', 'owasp-nhi']));
    const root = set.policies.find((p) => p.name === 'cis-aws-root-access-key')!;
    expect(root.metadata.controls).toEqual({
      'cis-aws-v5': ['1.3'],
      'cis-aws-v3': ['1.4'],
      securityhub: ['IAM.4'],
      soc2: ['CC6.3'],
      iso27001: ['A.8.2'],
      'nist-800-53': ['AC-6'],
    });
  });

  it.each([
    [
      'a misspelled rule type lists the valid ones',
      base('      - type: unused-fro'),
      /p\.yaml:6 policies\[0\]\.rules\[0\]\.type: unknown rule type "unused-fro" \(valid: .*unused-for/,
    ],
    [
      'a bad parameter',
      base('      - type: unused-for\n        days: -3'),
      /p\.yaml:7 policies\[0\]\.rules\[0\]\.days: /,
    ],
    [
      'an unknown parameter',
      base('      - type: unused-for\n        dayz: 3'),
      /p\.yaml:7 policies\[0\]\.rules\[0\]\.dayz: /,
    ],
    [
      'a rule that cannot apply to the selected kind',
      base('      - type: human-use'),
      /p\.yaml:4 policies\[0\]\.resource\.kinds: rule "human-use" applies only to aws-console-password/,
    ],
    [
      'an action that can act on none of the selected kinds',
      base('      - type: unused-for', '    remediation: [revoke-token]\n'),
      /policies\[0\]\.remediation\[0\]: action "revoke-token" acts only on vault-token, and this policy selects aws-access-key/,
    ],
    [
      'an unknown remediation action',
      base('      - type: unused-for', '    remediation: [nuke-everything]\n'),
      /policies\[0\]\.remediation\[0\]: unknown action "nuke-everything" \(valid: deactivate-key/,
    ],
    [
      'an unknown severity',
      base('      - type: unused-for').replace('severity: medium', 'severity: urgent'),
      /policies\[0\]\.severity: /,
    ],
    [
      'an exception without an expiry',
      `exceptions:\n  - id: e1\n    selector: { agents: [bot] }\n    owner: me\n    reason: why\n`,
      /p\.yaml:2 exceptions\[0\]\.expires: /,
    ],
    [
      'an exception with no selector',
      `exceptions:\n  - id: e1\n    selector: {}\n    owner: me\n    reason: why\n    expires: 2027-01-01\n`,
      /exceptions\[0\]\.selector: needs at least one of/,
    ],
  ])('should reject %s', async (_name, text, message) => {
    await expect(loadPolicies([file(text)])).rejects.toMatchObject({
      code: 'CW_ERR_POLICY',
      message: expect.stringMatching(message),
    });
  });

  it('should reject a duplicate policy name across files', async () => {
    const a = file(base('      - type: unused-for'));
    const b = file(base('      - type: unused-for'));
    await expect(loadPolicies([a, b])).rejects.toMatchObject({
      message: expect.stringMatching(/policies\[0\]\.name: policy "p1" is already defined in/),
    });
  });

  it('should name a missing path', async () => {
    await expect(loadPolicies(['/nonexistent/policies'])).rejects.toMatchObject({
      code: 'CW_ERR_POLICY',
      message: expect.stringContaining('/nonexistent/policies: no such'),
    });
  });
});
