/**
 * The compliance frameworks an evidence pack can be built for, each with the controls credwarden
 * can speak to: an id, a title, the requirement (summarised from the framework text; see
 * ../shared/reference remediation.md §3.1 and nhi-alerts-evidence.md §4), what credwarden
 * evidences for it, and its family, which picks the pass rules (controls.ts, README "Evidence
 * packs").
 *
 * Policies map to controls through `metadata.controls`, keyed by the framework's `controlsKey`:
 * `{ soc2: [CC6.1], iso27001: [A.5.17], nist-800-53: [IA-5], pci-dss-4: [8.6.3], cis-aws-v5: ["1.13"] }`.
 * A control no loaded policy maps to is reported `not-evidenced`, never passed, unless drills
 * evidence it (`drillRole: 'required'`: incident-response testing, monitoring tested end to end).
 *
 * Drills (drill/): a synthetic risky credential planted where the drills config allows, the
 * pipeline's detection, alert and remediation of it timed, and its cleanup. `drillRole` says what a
 * control makes of the drills that finished in the period (controls.ts):
 * - `required`: they are its evidence: none ran → not-evidenced, none passed → fail;
 * - `supporting`: its policies and coverage judge it as usual, the drills are listed, and drills
 *   that ran with none passing fail it (SOC 2 CC7.2: the monitoring was shown not to work).
 */

/** Which pass rules apply (controls.ts): the common ones, plus the family's own. */
export type ControlFamily =
  | 'access'
  | 'lifecycle'
  | 'privilege'
  | 'authentication'
  | 'interactive-use'
  | 'monitoring'
  | 'incident-response'
  | 'secrets-in-code';

export interface ControlDef {
  id: string;
  title: string;
  /** The requirement, summarised. */
  requirement: string;
  /** What credwarden records that speaks to it. */
  evidences: string;
  family: ControlFamily;
  /** What the period's drills are to it (absent: drills are not its evidence). */
  drillRole?: 'required' | 'supporting';
}

export interface Framework {
  id: FrameworkId;
  name: string;
  version: string;
  /** The `metadata.controls` key policies use for this framework. */
  controlsKey: string;
  controls: ControlDef[];
}

export const FRAMEWORK_IDS = ['soc2', 'iso27001', 'nist-800-53', 'pci-dss-4', 'cis-aws'] as const;
export type FrameworkId = (typeof FRAMEWORK_IDS)[number];

const c = (
  id: string,
  family: ControlFamily,
  title: string,
  requirement: string,
  evidences: string,
  drillRole?: ControlDef['drillRole'],
): ControlDef => ({ id, title, requirement, evidences, family, ...(drillRole ? { drillRole } : {}) });

const DRILLS =
  'Drills: a synthetic risky credential planted in the drill account or namespace, whether the pipeline detected it, alerted on it and remediated it (or asked for the approval it needs) before the deadline, each time measured, the stage a failed drill reached and why, and what cleanup removed.';

const FRAMEWORKS: Record<FrameworkId, Framework> = {
  soc2: {
    id: 'soc2',
    name: 'SOC 2 Trust Services Criteria (Common Criteria)',
    version: '2017 (revised points of focus 2022)',
    controlsKey: 'soc2',
    controls: [
      c(
        'CC6.1',
        'access',
        'Logical access security',
        'The entity implements logical access security software, infrastructure and architectures over protected information assets, including identifying and managing the credentials of infrastructure and software.',
        'The inventory of agent credentials (population), the loaded policies, and the findings of the policies mapped here (trust, shared credentials, key hygiene).',
      ),
      c(
        'CC6.2',
        'lifecycle',
        'Registration, authorization and removal of credentials',
        'Before issuing system credentials the entity registers and authorizes their users; credentials are removed when access is no longer authorized.',
        'Registry attribution (unregistered and ownerless credentials), unused credentials and how fast they were disabled or removed, the remediation actions and who approved them.',
      ),
      c(
        'CC6.3',
        'privilege',
        'Least privilege and segregation of duties',
        'The entity authorizes, modifies or removes access based on roles and responsibilities, considering least privilege and segregation of duties.',
        'Least-privilege findings (admin-equivalent, escalation, beyond declared scope), permission changes (detach, quarantine) with their four-eyes approvals and rollbacks.',
      ),
      c(
        'CC7.2',
        'monitoring',
        'Monitoring for anomalies',
        'The entity monitors system components and their operation for anomalies indicative of malicious acts, natural disasters and errors, and analyzes them to determine whether they are security events.',
        'Scan coverage and frequency per account and cluster, and the findings of anomalous credential power or use (human use, the power to disable audit devices) with their triage; the drills of the period, which test that monitoring end to end (detection, alert, response, with times).',
        'supporting',
      ),
    ],
  },
  iso27001: {
    id: 'iso27001',
    name: 'ISO/IEC 27001:2022 Annex A',
    version: '2022',
    controlsKey: 'iso27001',
    controls: [
      c(
        'A.5.15',
        'access',
        'Access control',
        'Rules to control physical and logical access to information and other associated assets are established and implemented based on business and information security requirements.',
        'The access rules as code (the loaded policies and their version), and the findings of trust and attachment rules.',
      ),
      c(
        'A.5.16',
        'lifecycle',
        'Identity management',
        'The full life cycle of identities, non-human ones included, is managed.',
        'The population with owner, agent, created, last used and removed dates; unregistered, ownerless and shared-credential findings.',
      ),
      c(
        'A.5.17',
        'authentication',
        'Authentication information',
        'Allocation and management of authentication information is controlled by a management process.',
        'Key age and rotation, never-expiring tokens, two active keys per user; rotations done.',
      ),
      c(
        'A.5.18',
        'lifecycle',
        'Access rights',
        'Access rights are provisioned, reviewed, modified and removed in accordance with the access-control policy.',
        'Unused and never-used credentials, how fast they were disabled or removed, and the actions that did it.',
      ),
      c(
        'A.5.24',
        'incident-response',
        'Information security incident management planning and preparation',
        'The organization plans and prepares for managing information security incidents by defining, establishing and communicating incident management processes, roles and responsibilities.',
        `${DRILLS} A passed drill shows the detection, alert routing and response procedure is in place and works.`,
        'required',
      ),
      c(
        'A.5.26',
        'incident-response',
        'Response to information security incidents',
        'Information security incidents are responded to in accordance with the documented procedures.',
        `${DRILLS} The response (the alert, the remediation or the approval request) is carried out on the planted credential as the procedure says.`,
        'required',
      ),
      c(
        'A.8.2',
        'privilege',
        'Privileged access rights',
        'The allocation and use of privileged access rights is restricted and managed.',
        'Admin-equivalent, escalation, Vault root and sudo findings; the actions that removed the privilege, with their approvals.',
      ),
      c(
        'A.8.5',
        'authentication',
        'Secure authentication',
        'Secure authentication technologies and procedures are implemented based on access restrictions and the access-control policy.',
        'Console passwords without MFA on agent users.',
      ),
    ],
  },
  'nist-800-53': {
    id: 'nist-800-53',
    name: 'NIST SP 800-53',
    version: 'Revision 5',
    controlsKey: 'nist-800-53',
    controls: [
      c(
        'AC-2(3)',
        'lifecycle',
        'Account management: disable accounts',
        'Disable accounts within an organization-defined time period when they have expired, are no longer associated with a user or individual, are in violation of policy, or have been inactive for an organization-defined time period.',
        'Unused and ownerless credentials, the time from detection to disabling (against the severity SLA), and the deactivation actions.',
      ),
      c(
        'AC-6',
        'privilege',
        'Least privilege',
        'Allow only authorized accesses for users and processes acting on their behalf that are necessary to accomplish assigned tasks.',
        'Granted versus declared permissions per agent, admin-equivalent and escalation findings, and the actions that reduced them.',
      ),
      c(
        'IA-5',
        'authentication',
        'Authenticator management',
        'Manage system authenticators: lifetime restrictions, periodic change or refresh, protection of authenticator content.',
        'Key age and rotation findings, never-expiring Vault tokens and secret IDs, rotations done.',
      ),
      c(
        'IR-3',
        'incident-response',
        'Incident response testing',
        'Test the effectiveness of the incident response capability for the system at an organization-defined frequency, using organization-defined tests.',
        DRILLS,
        'required',
      ),
      c(
        'SI-4',
        'monitoring',
        'System monitoring',
        'Monitor the system to detect attacks and indicators of potential attacks and unauthorized use; analyze detected events and anomalies; provide the monitoring information to defined personnel.',
        `${DRILLS} A drill tests that monitoring detects and alerts on a risky credential (as SI-4(9) asks of monitoring tools); scan coverage is in coverage.csv.`,
        'required',
      ),
    ],
  },
  'pci-dss-4': {
    id: 'pci-dss-4',
    name: 'PCI DSS',
    version: '4.0',
    controlsKey: 'pci-dss-4',
    controls: [
      c(
        '8.2.6',
        'lifecycle',
        'Inactive accounts removed or disabled',
        'Inactive user accounts are removed or disabled within 90 days of inactivity.',
        'Unused-credential findings and the time to disable or remove them.',
      ),
      c(
        '8.6.1',
        'interactive-use',
        'Interactive use of system and application accounts',
        'Interactive login with system or application accounts is prevented unless exceptional: time-limited, business-justified, explicitly approved by management, the individual identity confirmed, every action attributable to an individual.',
        'Human-use findings (console passwords on agent users), and the exceptions in force with their owner, reason and expiry.',
      ),
      c(
        '8.6.2',
        'secrets-in-code',
        'No hard-coded passwords',
        'Passwords of application and system accounts usable for interactive login are not hard coded in scripts, configuration files or source code (required from 31 March 2025).',
        'Nothing: credwarden reads credential metadata, not code or configuration repositories (no leak scanning).',
      ),
      c(
        '8.6.3',
        'authentication',
        'Periodic change of system-account credentials',
        'Passwords of application and system accounts are changed periodically, at the frequency set by a targeted risk analysis, and upon suspicion or confirmation of compromise.',
        'Key rotation age, never-expiring tokens and secret IDs, and the rotations done.',
      ),
      c(
        '12.10.2',
        'incident-response',
        'Incident response plan reviewed and tested',
        'At least once every 12 months the security incident response plan is reviewed and updated as needed, and tested, including all elements listed in Requirement 12.10.1.',
        `${DRILLS} They test the plan's detection, alerting and response elements for credentials; the yearly review of the plan itself is outside credwarden.`,
        'required',
      ),
    ],
  },
  'cis-aws': {
    id: 'cis-aws',
    name: 'CIS Amazon Web Services Foundations Benchmark',
    version: '5.0.0',
    controlsKey: 'cis-aws-v5',
    controls: [
      c(
        '1.3',
        'privilege',
        'No root user access key exists',
        'The root user has no access key.',
        'Root access keys found in each scanned account.',
      ),
      c(
        '1.9',
        'authentication',
        'MFA for every IAM user with a console password',
        'Multi-factor authentication is enabled for all IAM users that have a console password.',
        'Console passwords without an MFA device.',
      ),
      c(
        '1.10',
        'lifecycle',
        'No access keys at initial user setup',
        'Access keys are not created during initial setup for IAM users with a console password.',
        'Access keys created and never used.',
      ),
      c(
        '1.11',
        'lifecycle',
        'Credentials unused for 45 days or more are disabled',
        'Credentials (passwords, access keys) unused for 45 days or more are disabled or removed.',
        'Unused credentials, the time to disable them, and the deactivations done.',
      ),
      c(
        '1.12',
        'authentication',
        'One active access key per IAM user',
        'There is only one active access key for any single IAM user.',
        'Users with two active access keys.',
      ),
      c(
        '1.13',
        'authentication',
        'Access keys rotated every 90 days or less',
        'Access keys are rotated every 90 days or less.',
        'Key age against 90 days, and the rotations done.',
      ),
      c(
        '1.14',
        'access',
        'Permissions only through groups',
        'IAM users receive permissions only through groups.',
        'Users with policies attached directly.',
      ),
      c(
        '1.15',
        'privilege',
        'No full "*:*" administrative policies',
        'IAM policies that allow full "*:*" administrative privileges are not attached.',
        'Credentials granted "*" on "*", and the detach actions with their approvals.',
      ),
    ],
  },
};

export function isFrameworkId(v: string): v is FrameworkId {
  return (FRAMEWORK_IDS as readonly string[]).includes(v);
}

export function framework(id: FrameworkId): Framework {
  return FRAMEWORKS[id];
}

/** The policies (by name) that map to each control of `fw`, from their `metadata.controls`. */
export function policiesByControl(
  fw: Framework,
  policies: readonly { name: string; metadata: { controls?: Record<string, string[]> } }[],
): Map<string, string[]> {
  const out = new Map<string, string[]>(fw.controls.map((x) => [x.id, []]));
  for (const p of policies)
    for (const id of p.metadata.controls?.[fw.controlsKey] ?? []) {
      const list = out.get(id);
      if (list && !list.includes(p.name)) list.push(p.name);
    }
  for (const list of out.values()) list.sort();
  return out;
}
