/**
 * One credential as GET /api/v1/credentials/{id} answers it and the dashboard's credential page
 * shows it: the credential as stored, its explained risk score, its open findings and the actions
 * on it (newest first), read from the same snapshots. Null when the current inventory lacks it.
 */
import { actionJson } from '../remediation/action-json.js';
import type { ApiDeps } from './route.js';

export async function credentialDetail({ app, views }: Pick<ApiDeps, 'app' | 'views'>, id: string) {
  const credential = await app.scans.credential(id);
  if (!credential) return null;
  const [score, findings, actions] = await Promise.all([
    app.findings.credentialScore(id),
    views.findings(),
    views.actions(),
  ]);
  return {
    credential,
    score,
    findings: (findings.byCredential.get(id) ?? []).filter((f) => f.state === 'open'),
    actions: (actions.byCredential.get(id) ?? []).map(actionJson),
  };
}
