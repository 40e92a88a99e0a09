/**
 * Stable credential ids. They are the key for state, drift, findings and (later) actions, so their
 * shape never changes: `aws/<account>/access-key/<AccessKeyId>`, `aws/<account>/role/<RoleName>`,
 * `aws/<account>/console-password/<UserName>`, `vault/<cluster>/<namespace>/token/<accessor>`, …
 */

export const awsAccessKeyId = (account: string, keyId: string): string => `aws/${account}/access-key/${keyId}`;
export const awsRoleId = (account: string, roleName: string): string => `aws/${account}/role/${roleName}`;
/** The root account's keys have no id we can read without root: the report slot stands in. */
export const awsRootAccessKeyId = (account: string, slot: number): string => `aws/${account}/root-access-key/${slot}`;
export const awsConsolePasswordId = (account: string, userName: string): string =>
  `aws/${account}/console-password/${userName}`;

/**
 * The namespace segment of a Vault id: "root" for the root namespace, else the path without its
 * slashes at either end, with inner slashes encoded (`team-a/sub` → `team-a%2Fsub`). One segment,
 * so one namespace's id prefixes can never cover a child namespace's ids.
 */
export function vaultNamespaceSegment(ns: string): string {
  const trimmed = ns.replace(/^\/+|\/+$/g, '');
  return trimmed === '' || trimmed === 'root' ? 'root' : trimmed.replace(/\//g, '%2F');
}

export const vaultTokenId = (cluster: string, ns: string, accessor: string): string =>
  `vault/${cluster}/${vaultNamespaceSegment(ns)}/token/${accessor}`;
export const vaultAppRoleId = (cluster: string, ns: string, mount: string, role: string): string =>
  `vault/${cluster}/${vaultNamespaceSegment(ns)}/approle/${mount}/${role}`;
export const vaultSecretIdId = (cluster: string, ns: string, mount: string, role: string, accessor: string): string =>
  `vault/${cluster}/${vaultNamespaceSegment(ns)}/approle/${mount}/${role}/secret-id/${accessor}`;
export const vaultLeaseId = (cluster: string, ns: string, leaseId: string): string =>
  `vault/${cluster}/${vaultNamespaceSegment(ns)}/lease/${leaseId}`;
export const vaultAwsRoleId = (cluster: string, ns: string, mount: string, role: string): string =>
  `vault/${cluster}/${vaultNamespaceSegment(ns)}/aws-role/${mount}/${role}`;

/**
 * BullMQ job ids may not contain ":" and may not be all digits. Ids built here are deterministic so
 * that a replayed job is a duplicate, not a second run.
 */
export function jobId(...parts: string[]): string {
  const id = parts.map((p) => p.replace(/:/g, '_')).join('/');
  return /^\d+$/.test(id) ? `j-${id}` : id;
}
