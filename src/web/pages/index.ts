/**
 * Every dashboard page, one module each (a module may hold a page and the forms it posts).
 */
import type { Page } from '../page.js';
import actions from './actions.js';
import agents from './agents.js';
import compliance from './compliance.js';
import credential from './credential.js';
import drills from './drills.js';
import findings from './findings.js';
import overview from './overview.js';

export const pages: readonly Page[] = [
  ...overview,
  ...findings,
  ...credential,
  ...agents,
  ...actions,
  ...drills,
  ...compliance,
];
