/**
 * The page shell: a skip link, the header with the navigation the signed-in roles may use, the
 * signed-in subject and a sign-out form, the main landmark, and the stylesheet and script from
 * assets.ts (no inline script or style anywhere: the Content-Security-Policy forbids both).
 */
import { can, type Permission } from '../api/roles.js';
import type { Assets } from './assets.js';
import { type Html, html } from './html.js';
import type { NavId, Notice } from './page.js';
import type { Session } from './session.js';

const NAV: { id: NavId; label: string; path: string; permission: Permission }[] = [
  { id: 'overview', label: 'Overview', path: '/', permission: 'posture:read' },
  { id: 'findings', label: 'Findings', path: '/findings', permission: 'posture:read' },
  { id: 'agents', label: 'Agents', path: '/agents', permission: 'posture:read' },
  { id: 'actions', label: 'Actions', path: '/actions', permission: 'posture:read' },
  { id: 'drills', label: 'Drills', path: '/drills', permission: 'posture:read' },
  { id: 'compliance', label: 'Compliance', path: '/compliance', permission: 'audit:read' },
];

export interface LayoutInput {
  title: string;
  body: Html;
  session?: Session | null;
  nav?: NavId;
  assets: Assets;
  /** A notice at the top of the main area (after a form was handled). */
  notice?: Notice | null;
}

export function layout(o: LayoutInput): Html {
  const s = o.session;
  const nav = s
    ? html`<nav aria-label="Main"><ul>${NAV.filter((n) => can(s.roles, n.permission)).map(
        (n) => html`<li><a href="${n.path}"${n.id === o.nav ? html` aria-current="page"` : ''}>${n.label}</a></li>`,
      )}</ul></nav>
      <form class="signout" method="post" action="/logout">
        <input type="hidden" name="_csrf" value="${s.csrf}">
        <span class="who" title="roles: ${s.roles.join(', ')}">${s.subject} <small>(${s.roles.join(', ')})</small></span>
        <button type="submit" class="link">Sign out</button>
      </form>`
    : '';
  const notice = o.notice
    ? html`<p class="notice ${o.notice.kind}" role="${o.notice.kind === 'error' ? 'alert' : 'status'}">${o.notice.text}</p>`
    : '';
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light">
<title>${o.title} · credwarden</title>
<link rel="stylesheet" href="${o.assets.url('app.css')}">
<script type="module" src="${o.assets.url('app.js')}"></script>
</head>
<body>
<a class="skip" href="#main">Skip to content</a>
<header class="top"><a class="brand" href="/">credwarden</a>${nav}</header>
<main id="main" tabindex="-1">
${notice}
${o.body}
</main>
</body>
</html>`;
}

/** The CSP of every dashboard response: scripts, styles and images from this origin only; no inline script or style. */
export const DASHBOARD_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
].join('; ');
