import { ErrorCode, TracenetError } from '@tracenet/proto';
import type { Actor, Role } from './actor.js';

/** Who may call a method: anyone (sign-in), any authenticated caller, or holders of one of the roles. */
export type Permission = 'public' | 'authenticated' | readonly Role[];

/** Every role: reading is open to all of them (the auditor reads everything). */
const READ: readonly Role[] = ['officer', 'supervisor', 'auditor', 'administrator'];
const OFFICER: readonly Role[] = ['officer'];
const SUPERVISOR: readonly Role[] = ['supervisor'];
const ADMINISTRATOR: readonly Role[] = ['administrator'];

/**
 * The one role table of the Authority API (docs/protocol.md 7.1): every method path → who may
 * call it. A method that is not listed is refused to everyone (fail closed), so a new RPC cannot
 * be served before its entry is written here. Officers draft, send, acknowledge and answer;
 * supervisors approve; auditors read everything, the audit log included, and change nothing;
 * administrators manage peers, policies, keys, the roster, backups and accounts.
 */
export const PERMISSIONS: Readonly<Record<string, Permission>> = Object.freeze<Record<string, Permission>>({
  // Authority
  '/tracenet.v1.Authority/GetNodeInfo': READ,
  '/tracenet.v1.Authority/ListPeers': READ,
  '/tracenet.v1.Authority/GetPeerPolicy': READ,
  '/tracenet.v1.Authority/GetRoster': READ,
  '/tracenet.v1.Authority/ListMessages': READ,
  '/tracenet.v1.Authority/GetDeliveryStats': READ,
  '/tracenet.v1.Authority/WatchEvents': READ,
  '/tracenet.v1.Authority/VerifyAudit': READ,
  '/tracenet.v1.Authority/ListAudit': READ,
  '/tracenet.v1.Authority/SendNotice': OFFICER,
  '/tracenet.v1.Authority/AddPeer': ADMINISTRATOR,
  '/tracenet.v1.Authority/RemovePeer': ADMINISTRATOR,
  '/tracenet.v1.Authority/SetPeerPolicy': ADMINISTRATOR,
  '/tracenet.v1.Authority/RotateKeys': ADMINISTRATOR,
  '/tracenet.v1.Authority/RevokeKeys': ADMINISTRATOR,
  '/tracenet.v1.Authority/LoadRoster': ADMINISTRATOR,
  '/tracenet.v1.Authority/CreateBackup': ADMINISTRATOR,
  // Cases
  '/tracenet.v1.Cases/ListCases': READ,
  '/tracenet.v1.Cases/GetCase': READ,
  '/tracenet.v1.Cases/GetTraceChain': READ,
  '/tracenet.v1.Cases/CreateCase': OFFICER,
  '/tracenet.v1.Cases/SendCase': OFFICER,
  '/tracenet.v1.Cases/AcknowledgeCase': OFFICER,
  '/tracenet.v1.Cases/AnswerCase': OFFICER,
  '/tracenet.v1.Cases/DelayCase': OFFICER,
  '/tracenet.v1.Cases/RestrictCase': OFFICER,
  '/tracenet.v1.Cases/RefuseCase': OFFICER,
  '/tracenet.v1.Cases/RequestClarification': OFFICER,
  '/tracenet.v1.Cases/ReplyClarification': OFFICER,
  '/tracenet.v1.Cases/CloseCase': OFFICER,
  '/tracenet.v1.Cases/WithdrawCase': OFFICER,
  '/tracenet.v1.Cases/FollowOn': OFFICER,
  '/tracenet.v1.Cases/ShareCase': OFFICER,
  '/tracenet.v1.Cases/RequestConsent': OFFICER,
  '/tracenet.v1.Cases/DecideConsent': OFFICER,
  // Four-eyes approvals (docs/operations.md, accounts and approvals).
  '/tracenet.v1.Cases/ListApprovals': ['officer', 'supervisor', 'auditor', 'administrator'],
  '/tracenet.v1.Cases/ApproveStep': SUPERVISOR,
  '/tracenet.v1.Cases/RejectStep': SUPERVISOR,
  '/tracenet.v1.Cases/GetApprovalPolicy': READ,
  '/tracenet.v1.Cases/SetApprovalPolicy': ADMINISTRATOR,
  // Request quality and re-export flags (docs/protocol.md 17, 18).
  '/tracenet.v1.Cases/CheckRequest': ['officer', 'supervisor'],
  '/tracenet.v1.Cases/ListReexportFlags': READ,
  '/tracenet.v1.Cases/NotifyReexport': OFFICER,
  // Records
  '/tracenet.v1.Records/GetRecord': READ,
  '/tracenet.v1.Records/SearchRecords': READ,
  '/tracenet.v1.Records/PutRecord': OFFICER,
  '/tracenet.v1.Records/DeleteRecord': OFFICER,
  '/tracenet.v1.Records/ImportRecords': OFFICER,
  '/tracenet.v1.Records/ReportRecord': OFFICER,
  '/tracenet.v1.Records/ClearReport': OFFICER,
  '/tracenet.v1.Records/LoadAliases': ADMINISTRATOR,
  '/tracenet.v1.Records/SearchAliases': READ,
  '/tracenet.v1.Records/GetDestructionCertificate': READ,
  '/tracenet.v1.Records/VerifyDestructionCertificate': READ,
  '/tracenet.v1.Records/RecordDestruction': OFFICER,
  // Statistics (docs/statistics.md): read by every role; an export leaves the node, so only an
  // officer or a supervisor makes one, and it is audited.
  '/tracenet.v1.Statistics/GetSdgIndicator': READ,
  '/tracenet.v1.Statistics/GetTracingPerformance': READ,
  '/tracenet.v1.Statistics/GetReexportReport': READ,
  '/tracenet.v1.Statistics/ExportSdgIndicator': ['officer', 'supervisor'],
  // Lookups
  '/tracenet.v1.Lookups/ListHits': READ,
  '/tracenet.v1.Lookups/Lookup': OFFICER,
  '/tracenet.v1.Lookups/TraceFromHit': OFFICER,
  // Access
  '/tracenet.v1.Access/Login': 'public',
  '/tracenet.v1.Access/BeginOidcSignIn': 'public',
  '/tracenet.v1.Access/CompleteOidcSignIn': 'public',
  '/tracenet.v1.Access/Logout': 'authenticated',
  '/tracenet.v1.Access/WhoAmI': 'authenticated',
  '/tracenet.v1.Access/SetMyLanguage': 'authenticated',
  '/tracenet.v1.Access/ListOfficers': ['administrator', 'auditor'],
  '/tracenet.v1.Access/ListClients': ['administrator', 'auditor'],
  '/tracenet.v1.Access/AddOfficer': ADMINISTRATOR,
  '/tracenet.v1.Access/DisableOfficer': ADMINISTRATOR,
  '/tracenet.v1.Access/SetOfficerRoles': ADMINISTRATOR,
  '/tracenet.v1.Access/ResetOfficerPassword': ADMINISTRATOR,
  '/tracenet.v1.Access/AddClient': ADMINISTRATOR,
  '/tracenet.v1.Access/RevokeClient': ADMINISTRATOR,
});

/** Who may call the method at `path` (`/tracenet.v1.Service/Method`); undefined: nobody. */
export function permissionOf(path: string): Permission | undefined {
  return Object.hasOwn(PERMISSIONS, path) ? PERMISSIONS[path] : undefined;
}

/** Whether the method at `path` is called without credentials (sign-in). */
export function isPublic(path: string): boolean {
  return permissionOf(path) === 'public';
}

/**
 * Throws FORBIDDEN (field `authorization`, rule `role`) unless `actor` may call the method at
 * `path`: the message names the roles that may, never the caller's credentials.
 *
 * @example
 * ```ts
 * authorize(auditor, '/tracenet.v1.Cases/AnswerCase'); // throws FORBIDDEN: needs officer
 * ```
 */
export function authorize(actor: Actor, path: string): void {
  const permission = permissionOf(path);
  if (permission === 'public' || (permission === 'authenticated' && actor.kind !== 'node')) return;
  if (permission !== undefined && permission !== 'authenticated' && permission.some((r) => actor.roles.includes(r)))
    return;
  const needs =
    permission === undefined || permission === 'authenticated'
      ? 'it is not open to any role'
      : `it needs the role ${permission.join(' or ')}`;
  throw new TracenetError(ErrorCode.ERROR_CODE_FORBIDDEN, `${path.slice(1).replace('/', '.')} is refused: ${needs}`, {
    field: 'authorization',
    rule: 'role',
  });
}
