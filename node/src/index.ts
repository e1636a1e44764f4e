/**
 * @tracenet/node — a Tracenet node and the building blocks other packages reuse: the envelope
 * (seal, open, receipts), identities and peer cards, the audit log, the registry adapters.
 * Development helpers (a local federation of node processes, the CLI's text output) are the
 * subpath `@tracenet/node/dev`.
 *
 * @example
 * ```ts
 * import { TracenetNode, loadConfig } from '@tracenet/node';
 * const node = await TracenetNode.open({ dataDir: './data', config: await loadConfig({}) });
 * await node.start();
 * ```
 */
export { TracenetNode, type NodeOptions, type RuntimeInfo, type NodeLookups } from './node.js';
export { loadConfig, DEFAULT_CONFIG, envName, type NodeConfig, DEFAULT_MAX_ENVELOPE_BYTES } from './config/config.js';
export { initSodium, randomBytes } from './crypto/sodium.js';
export {
  sealEnvelope,
  sealWithHeader,
  parseEnvelope,
  decryptEnvelope,
  verifyEnvelopeSignature,
  envelopeDigest,
  ENVELOPE_VERSION,
  type SealInput,
  type SealedEnvelope,
  type ParsedEnvelope,
} from './envelope/envelope.js';
export { derivePairKey, PairKeyCache } from './envelope/pair-key.js';
export {
  signReceipt,
  verifyReceipt,
  verifyRememberedReceipt,
  verifyDeliveryReceipt,
  type DeliveryProof,
} from './envelope/receipt.js';
export {
  initDataDir,
  loadIdentity,
  issuePeerCard,
  dataPaths,
  readAuthorityToken,
  rotateKeys,
  type NodeIdentity,
  type OwnKeySet,
  type RetiredKeys,
} from './identity/data-dir.js';
export {
  signRoster,
  verifyRoster,
  keysDigest,
  parseRosterFile,
  toRosterFile,
  ROSTER_FILE_FORMAT,
} from './keys/roster.js';
export { generateKeyPairs, keyIdOf, type KeyPairs } from './crypto/key-pairs.js';
export {
  signPeerCard,
  verifyPeerCard,
  toPeerCardFile,
  parsePeerCardFile,
  type PeerCardFile,
} from './identity/peer-card.js';
export { isParticipantId, participantKindOf } from './identity/participant-id.js';
export { connectAuthority, type LocalAuthorityClient } from './api/authority-client.js';
export { verifyAuditLog } from './audit/verify.js';
export { ManualClock, systemClock, type Clock } from './util/clock.js';
export { ManualScheduler, schedulerOf, systemScheduler, type Scheduler, type Timer } from './util/scheduler.js';
export type { DeliverOptions, Transport } from './federation/transport.js';
export { connectUnary, type AuthorityChannel, type UnaryClient } from './api/unary-client.js';
export { Workflow } from './workflow/workflow.js';
export { parseAliasCsv, AliasTable, type AliasKind } from './records/alias-table.js';
export { defaultCalibreAliases, DEFAULT_CALIBRE_ALIASES_CSV } from './records/calibre-aliases.js';
export { serialPattern, WILDCARD_MIN_KNOWN, type SerialPattern } from './records/serial-pattern.js';
export {
  type HeldIncomplete,
  isIncomplete,
  isUnreadable,
  type RegistryAdapter,
  type RegistryEntry,
  type UnreadableRow,
} from './registry/adapter.js';
export {
  Registry,
  identityFilter,
  closeTypes,
  CLOSE_TYPE_GROUPS,
  type SearchOptions,
  type AdapterHealth,
} from './registry/registry.js';
export { createRegistry, type AdapterModule, type AdapterModuleContext } from './registry/create.js';
export { LocalRecordsAdapter } from './registry/local.js';
export { CsvFolderAdapter, type CsvFolderOptions } from './registry/csv-folder.js';
export { PostgresAdapter } from './registry/postgres.js';
export {
  normaliseSerial,
  normaliseName,
  normaliseManufacturer,
  normaliseModel,
  normaliseCalibre,
  indexedSerials,
} from './records/normalise.js';
export { recordFromJson, recordToJson } from './records/record-json.js';
export { recordViolations } from './records/validation.js';
export { importRecords, type ImportOptions, type ImportSummary } from './records/import.js';
export { retentionOf, retentionDate } from './records/retention.js';
export { nextState, WORKFLOW_KINDS } from './workflow/state-machine.js';
