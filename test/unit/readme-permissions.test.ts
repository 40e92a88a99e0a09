/**
 * The README's remediation permissions are generated from the action registry; this fails when
 * an action's declared permissions change and the README was not regenerated
 * (`npm run docs:permissions`).
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { actionTypes } from '../../src/actions/index.js';
import { PERMISSIONS_BEGIN, PERMISSIONS_END, permissionsMarkdown } from '../../src/actions/permissions-doc.js';

const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');

describe('README remediation permissions', () => {
  it('holds exactly the block generated from the action registry', () => {
    const a = readme.indexOf(PERMISSIONS_BEGIN);
    const b = readme.indexOf(PERMISSIONS_END);
    expect(a).toBeGreaterThan(-1);
    expect(readme.slice(a, b + PERMISSIONS_END.length)).toBe(permissionsMarkdown(actionTypes()));
  });

  it('lists every IAM action any action type calls', () => {
    for (const t of actionTypes())
      for (const p of t.permissions.aws) expect(permissionsMarkdown(actionTypes())).toContain(`"${p}"`);
  });
});
