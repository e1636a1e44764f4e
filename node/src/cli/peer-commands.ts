import type { Command } from 'commander';
import {
  ErrorCode,
  ParticipantKind,
  type PeerCardBody,
  type PeerSummary,
  ReleaseAction,
  type ReleaseRule,
  type RemovePeerResponse,
  TraceOutcome,
  TracenetError,
  WeaponEventType,
} from '@tracenet/proto';
import type { LocalAuthorityClient } from '../api/authority-client.js';
import { initSodium } from '../crypto/sodium.js';
import { summarisePeer, type PeerRegistry } from '../federation/peers.js';
import { keyIdOf } from '../crypto/key-pairs.js';
import { parsePeerCardFile, verifyPeerCard } from '../identity/peer-card.js';
import { certificateFingerprint } from '../identity/tls.js';
import { approvalText } from './approval-commands.js';
import { choice, dataOption, jsonOption, output, parseDuration, readInput } from './context.js';
import { checkPeer, peerCheckExitCode } from './peer-check.js';
import { loadIdentity } from '../identity/data-dir.js';

/** What an operator reads aloud to the participant before pinning: computed from the signed card, never copied from the file. */
export interface CardFingerprints {
  readonly participantId: string;
  readonly kind: 'state' | 'organisation';
  readonly displayName: string;
  readonly endpoints: readonly string[];
  readonly validFrom: string;
  readonly validUntil: string;
  readonly issuedAt: string;
  /** Key id computed from the two public keys (docs/protocol.md 2.2). */
  readonly keyId: string;
  /** SHA-256 of the TLS certificate DER, computed. */
  readonly tlsFingerprint: string;
  readonly signingPublicKey: string;
  readonly encryptionPublicKey: string;
}

/** The fingerprints of a verified card body. */
export function cardFingerprints(body: PeerCardBody): CardFingerprints {
  return {
    participantId: body.participantId,
    kind: body.kind === ParticipantKind.PARTICIPANT_KIND_ORGANISATION ? 'organisation' : 'state',
    displayName: body.displayName,
    endpoints: body.endpoints,
    validFrom: new Date(body.validFromMs).toISOString(),
    validUntil: new Date(body.validUntilMs).toISOString(),
    issuedAt: new Date(body.issuedAtMs).toISOString(),
    keyId: keyIdOf(body.signingPublicKey, body.encryptionPublicKey),
    tlsFingerprint: certificateFingerprint(body.tlsCertificate).toString('hex'),
    signingPublicKey: body.signingPublicKey.toString('hex'),
    encryptionPublicKey: body.encryptionPublicKey.toString('hex'),
  };
}

/** Hex in groups of four, as it is read aloud: "548f ba50 e9ff d19c". */
const grouped = (hex: string) => hex.replace(/(.{4})(?=.)/g, '$1 ');

function fingerprintLines(file: string, f: CardFingerprints): string[] {
  return [
    `Card file ${file}: a card of ${f.participantId} (${f.kind}); its signature verifies and the readable fields of the file agree with it.`,
    `  display name     ${f.displayName}`,
    `  endpoints        ${f.endpoints.join(', ')}`,
    `  valid            ${f.validFrom} to ${f.validUntil} (issued ${f.issuedAt})`,
    `Before pinning, read these to ${f.participantId} over a second channel (telephone) and compare:`,
    `  key id           ${grouped(f.keyId)}`,
    `  TLS fingerprint  ${grouped(f.tlsFingerprint)}`,
    `  signing key      ${grouped(f.signingPublicKey)}  (Ed25519)`,
    `  encryption key   ${grouped(f.encryptionPublicKey)}  (X25519)`,
  ];
}

/**
 * Registers `tracenet peers show <card-file>` and `tracenet peers remove <participant>`
 * (docs/operations.md section 2). `show` needs no node: it verifies the card file and prints the
 * fingerprints computed from the signed card for the telephone check. `remove` goes through the
 * running node, or opens the store of a stopped one, like `peers add`.
 *
 * @example
 * ```ts
 * registerPeerCardCommands(program.command('peers'), { authority, offline: (dataDir, work) => offline(dataDir, (_s, _j, peers) => work(peers)) });
 * ```
 */
export function registerPeerCardCommands(
  peers: Command,
  deps: {
    /** A client of the running node's Authority API, or undefined when no node runs on `dataDir`. */
    authority: (dataDir: string) => Promise<LocalAuthorityClient | undefined>;
    /** Runs `work` on the pins of the stopped node's store. */
    offline: <T>(dataDir: string, work: (registry: PeerRegistry) => Promise<T>) => Promise<T>;
  },
): void {
  peers
    .command('show')
    .description(
      'verify a card file and print the fingerprints computed from its signed card (key id, TLS fingerprint, public keys), to compare with the participant by telephone before pinning',
    )
    .argument('<card-file>', 'card file exported by the peer with: tracenet peers export')
    .addOption(jsonOption())
    .action(async (file: string, options: { json?: boolean }) => {
      await initSodium();
      const card = parsePeerCardFile(await readInput(file, `card file ${file} does not exist`));
      const fingerprints = cardFingerprints(verifyPeerCard(card, Date.now()));
      output(options.json, fingerprints, () => fingerprintLines(file, fingerprints));
    });

  peers
    .command('remove')
    .description(
      'unpin a peer, e.g. after pinning a wrong card: its envelopes are refused and nothing is sent to it until a card of it is pinned again; its policy, cases and queued messages stay (audited)',
    )
    .argument('<participant>', 'pinned peer, e.g. TCD')
    .addOption(dataOption())
    .addOption(jsonOption())
    .action(async (participantId: string, options: { data: string; json?: boolean }) => {
      const client = await deps.authority(options.data);
      let result: RemovePeerResponse;
      if (client) {
        try {
          result = await client.call('removePeer', { participantId });
        } finally {
          client.close();
        }
        const waiting = result.pendingApproval;
        if (waiting) {
          output(options.json, result, () => approvalText(waiting));
          return;
        }
      } else {
        result = await deps.offline(options.data, async (registry) => {
          const removed = await registry.remove(participantId, Date.now());
          return { peer: summarisePeer(removed.peer), queuedMessages: removed.queued };
        });
      }
      const { peer, queuedMessages } = result;
      output(options.json, result, () => [
        `Removed ${participantId} (key ${peer?.keyId ?? '?'}, TLS ${peer?.tlsFingerprint ?? '?'}): its envelopes are refused and nothing is sent to it until a card of it is pinned again.`,
        queuedMessages > 0
          ? `${queuedMessages} message(s) queued to ${participantId} wait for the next card of ${participantId} you pin (they are sealed to its keys then), or fail as EXPIRED at the end of their lifetime.`
          : `No message was queued to ${participantId}.`,
      ]);
    });

  peers
    .command('check')
    .description(
      'check the connection to a pinned peer as the node makes it: "ok", "peer down" (nothing answers: connection refused or no answer in time) or "wrong certificate pinned" (the endpoint presents another TLS certificate than the pinned card); exit code 0, 6 or 5',
    )
    .argument('<participant>', 'pinned peer, e.g. BEL')
    .option('--timeout <duration>', 'how long to wait for the peer, e.g. 5s', '5s')
    .addOption(dataOption())
    .addOption(jsonOption())
    .action(async (participantId: string, options: { data: string; timeout: string; json?: boolean }) => {
      await initSodium();
      const timeoutMs = parseDuration(options.timeout);
      const client = await deps.authority(options.data);
      let list: readonly PeerSummary[];
      if (client) {
        try {
          list = (await client.call('listPeers', {})).peers;
        } finally {
          client.close();
        }
      } else {
        list = await deps.offline(options.data, async (registry) => registry.list().map(summarisePeer));
      }
      const peer = list.find((p) => p.participantId === participantId);
      if (!peer)
        throw new TracenetError(ErrorCode.ERROR_CODE_NOT_FOUND, `${participantId} is not a pinned peer`, {
          field: 'participant',
          rule: 'pinned',
        });
      const endpoint = peer.endpoints[0];
      if (!endpoint)
        throw new TracenetError(
          ErrorCode.ERROR_CODE_INVALID_PEER_CARD,
          `the card of ${participantId} names no endpoint`,
          {
            field: 'endpoints',
            rule: 'required',
          },
        );
      const identity = await loadIdentity(options.data);
      const result = await checkPeer({
        participantId,
        endpoint,
        pinnedFingerprint: peer.tlsFingerprint,
        tls: identity.tls,
        timeoutMs,
      });
      output(options.json, result, () => [result.detail]);
      process.exitCode = peerCheckExitCode(result.verdict);
    });
}

/** "transferred" for WEAPON_EVENT_TYPE_TRANSFERRED: the CLI spelling of an enum member. */
const spelled = (names: Record<number, string>, prefix: string, value: number): string =>
  (names[value] ?? String(value)).replace(prefix, '').toLowerCase().replace(/_/g, '-');

/**
 * One release rule as written on the command line (docs/operations.md section 6):
 * `<field>=<action>[;events=<type>,…][;outcomes=<outcome>,…][;reason=<text>]`, e.g.
 * `history.end_user=on-request;events=transferred;reason=Data protection act, art. 9`. The
 * action is release, withhold, on-request or approval. The node checks the field (12.11).
 *
 * @example
 * ```ts
 * parseReleaseRule('history.end_user=withhold;events=transferred').eventTypes; // [WEAPON_EVENT_TYPE_TRANSFERRED]
 * ```
 */
export function parseReleaseRule(text: string): ReleaseRule {
  const [head = '', ...parts] = text.split(';');
  const m = /^\s*([a-z_.]+)\s*=\s*([a-z-]+)\s*$/.exec(head);
  if (!m)
    throw new TracenetError(
      ErrorCode.ERROR_CODE_INVALID_FIELD,
      `--release-rule "${text}" must read <field>=<action>[;events=…][;outcomes=…][;reason=…], e.g. history.end_user=on-request;events=transferred`,
      { field: 'release-rule', rule: 'format' },
    );
  const rule: ReleaseRule = {
    field: m[1] as string,
    action: choice<ReleaseAction>(ReleaseAction, 'RELEASE_ACTION_', m[2] as string, 'release-rule action'),
    eventTypes: [],
    outcomes: [],
    reason: '',
  };
  for (const part of parts) {
    const at = part.indexOf('=');
    const key = part.slice(0, at).trim();
    const value = part.slice(at + 1);
    const list = () =>
      value
        .split(',')
        .map((v) => v.trim())
        .filter((v) => v !== '');
    if (at > 0 && key === 'events')
      rule.eventTypes = list().map((v) =>
        choice<WeaponEventType>(WeaponEventType, 'WEAPON_EVENT_TYPE_', v, 'release-rule events'),
      );
    else if (at > 0 && key === 'outcomes')
      rule.outcomes = list().map((v) =>
        choice<TraceOutcome>(TraceOutcome, 'TRACE_OUTCOME_', v, 'release-rule outcomes'),
      );
    else if (at > 0 && key === 'reason') rule.reason = value.trim();
    else
      throw new TracenetError(
        ErrorCode.ERROR_CODE_INVALID_FIELD,
        `--release-rule "${text}": "${part}" is not events=…, outcomes=… or reason=…`,
        { field: 'release-rule', rule: 'format' },
      );
  }
  return rule;
}

/** A release rule as the policy command lists it, in the syntax parseReleaseRule reads. */
export function releaseRuleText(rule: ReleaseRule): string {
  const parts = [`${rule.field}=${spelled(ReleaseAction, 'RELEASE_ACTION_', rule.action)}`];
  if (rule.eventTypes.length > 0)
    parts.push(`events=${rule.eventTypes.map((t) => spelled(WeaponEventType, 'WEAPON_EVENT_TYPE_', t)).join(',')}`);
  if (rule.outcomes.length > 0)
    parts.push(`outcomes=${rule.outcomes.map((o) => spelled(TraceOutcome, 'TRACE_OUTCOME_', o)).join(',')}`);
  if (rule.reason !== '') parts.push(`reason=${rule.reason}`);
  return parts.join(';');
}

/** The help of `tracenet peers policy --release-rule`. */
export const RELEASE_RULE_HELP =
  'what answers to the peer release, repeatable, first match wins; replaces the rules: <field>=<release|withhold|on-request|approval>[;events=transferred,…][;outcomes=traced,…][;reason=text]; participant "*" sets the rules of every peer';

/** Commander's collector of the repeatable `--release-rule`: each value parsed and appended. */
export function collectReleaseRule(value: string, previous: ReleaseRule[] | undefined): ReleaseRule[] {
  return [...(previous ?? []), parseReleaseRule(value)];
}

/** The release rules after the options: the given ones, none, or the policy's unchanged. */
export function releaseRulesFrom(
  options: { releaseRule?: ReleaseRule[]; clearReleaseRules?: boolean },
  current: readonly ReleaseRule[],
): ReleaseRule[] {
  if (options.releaseRule) return options.releaseRule;
  return options.clearReleaseRules ? [] : [...current];
}

/** The lines listing a policy's release rules, numbered as `release_rules[i]` in notes and errors. */
export function releaseRuleLines(rules: readonly ReleaseRule[]): string[] {
  if (rules.length === 0) return ['  release rules: none (every value is released)'];
  return ['  release rules (first match wins):', ...rules.map((r, i) => `    [${i}] ${releaseRuleText(r)}`)];
}
