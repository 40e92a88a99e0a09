/**
 * Tables fit the terminal (issue 9 §2.6): one WHY cell listing 425 actions drew a header rule over
 * 5,000 characters wide. Cut columns give way to the terminal's width (stdout's columns, 120 when
 * it is not a terminal), lists keep whole items and say "+N more", ids keep both ends. `--json` and
 * `findings show` keep the full text (test/integration/findings-one-risk.test.ts). The inventory
 * table gains a PRINCIPAL column (§2.2).
 */
import { describe, expect, it } from 'vitest';
import { credentialTable, fitCell, naturalWidth, table, terminalWidth } from '../../src/cli/format.js';
import { accessKey, vaultToken } from '../support/credentials.js';

const ACTIONS = Array.from({ length: 425 }, (_, i) => `svc${i}:DoSomething${i}`);
const WHY = `425 actions beyond agent deploy-agent's declared AWS scope, granted by inline:admin#1: ${ACTIONS.join(', ')}`;
const ID = 'aws/111111111111/access-key/AKIAFAKEDEPLOY000001';

describe('table', () => {
  const headers = ['SEVERITY', 'POLICY', 'CREDENTIAL', 'AGENT', 'STATE', 'WHY'];
  const rows = [
    ['MEDIUM', 'agent-beyond-declared-scope', ID, 'deploy-agent', 'open', WHY],
    ['CRITICAL', 'agent-admin-equivalent +1', ID, 'deploy-agent', 'open', 'Allow * on *: full administrator'],
  ];

  it('should keep every line, the header rule included, within the width', () => {
    expect(naturalWidth(headers, rows)).toBeGreaterThan(5000);
    const out = table(headers, rows, { width: 120, fit: [5, 2, 1, 3] }).split('\n');
    for (const line of out) expect(line.length).toBeLessThanOrEqual(120);
    expect(out[1]!.length).toBeGreaterThan(100); // the rule spans the table, not a stub
  });

  it('should cut the WHY first, keep ids and policy names whole where there is room, and count what it left out', () => {
    const out = table(headers, rows, { width: 160, fit: [5, 2, 1, 3] }).split('\n');
    for (const line of out) expect(line.length).toBeLessThanOrEqual(160);
    expect(out[2]).toContain(ID);
    expect(out[2]).toContain('agent-beyond-declared-scope');
    expect(out[2]!.slice(out[0]!.indexOf('WHY'))).toMatch(/^425 actions beyond .*\+425 more$/);
  });

  it('should keep whole list items and count the rest exactly', () => {
    const cell = fitCell(WHY, 140);
    expect(cell.length).toBeLessThanOrEqual(140);
    const m = /^425 actions .*inline:admin#1: (.*) \+(\d+) more$/.exec(cell);
    expect(m).not.toBeNull();
    const shown = m![1]!.split(', ');
    expect(shown[0]).toBe('svc0:DoSomething0');
    expect(Number(m![2]) + shown.length).toBe(425);
  });

  it('should give way on ids too when the terminal is narrow, keeping their distinguishing ends', () => {
    for (const width of [120, 80]) {
      const out = table(headers, rows, { width, fit: [5, 2, 1, 3] }).split('\n');
      for (const line of out) expect(line.length).toBeLessThanOrEqual(width);
      expect(out[2]).toMatch(/aws\/1.*….*00001 /);
      expect(out[2]).toMatch(/\+\d+ more$/);
    }
  });

  it('should cut nothing without a width (other tables, machine use)', () => {
    expect(table(headers, rows)).toContain(WHY);
  });
});

describe(fitCell.name, () => {
  it.each([
    ['a list after a label', 'grants: a, b, c, d, e, f', 20, 'grants: a, b +4 more'],
    ['a counted tail', 'read: a, b, c (+40 more)', 19, 'read: a, b +41 more'],
    ['a list whose first item does not fit', 'grants: averyveryverylongitem, b', 20, 'grants: +2 more'],
    ['an id', 'aws/111111111111/access-key/AKIAEXAMPLE', 20, 'aws/111111…IAEXAMPLE'],
    ['prose', 'the quick brown fox jumps', 10, 'the quick…'],
    ['text that fits', 'short', 10, 'short'],
  ])('should cut %s', (_what, text, width, want) => {
    const got = fitCell(text, width);
    expect(got).toBe(want);
    expect(got.length).toBeLessThanOrEqual(width);
  });
});

describe(terminalWidth.name, () => {
  it("should use the terminal's columns, and 120 when stdout is not a terminal", () => {
    expect(terminalWidth({ isTTY: true, columns: 200 })).toBe(200);
    expect(terminalWidth({ isTTY: false, columns: 200 })).toBe(120);
    expect(terminalWidth({})).toBe(120);
  });
});

describe(credentialTable.name, () => {
  it("should show each credential's principal (the user or role ARN, or the Vault holder)", () => {
    const key = accessKey('AKIAEXAMPLE000000001', {}, 'agent-deploy-1');
    const out = credentialTable([key, vaultToken()], 200).split('\n');
    expect(out[0]).toMatch(/^CREDENTIAL\s+KIND\s+AGENT\s+STATUS\s+CREATED\s+LAST USED\s+GRANTS\s+PRINCIPAL$/);
    expect(out[2]).toContain('arn:aws:iam::123456789012:user/agent-deploy-1');
    expect(out[3]).toContain('token-invoice-bot');
  });

  it('should cut a long principal to the width (never under 40), keeping the user name at its end', () => {
    const key = accessKey('AKIAEXAMPLE000000001', {
      principal: `arn:aws:iam::123456789012:user/${'p/'.repeat(60)}agent-deploy-1`,
    });
    for (const width of [120, 200]) {
      const out = credentialTable([key], width).split('\n');
      const principal = out[2]!.slice(out[0]!.indexOf('PRINCIPAL'));
      expect(principal).toMatch(/^arn:aws:iam::.*….*agent-deploy-1$/);
      expect(principal.length).toBe(width === 120 ? 40 : Math.max(40, width - out[0]!.indexOf('PRINCIPAL')));
    }
  });
});
