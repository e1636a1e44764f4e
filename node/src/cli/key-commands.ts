import { writeFile } from 'node:fs/promises';
import type { Command } from 'commander';
import type { PeerCard, RosterSummary } from '@tracenet/proto';
import type { LocalAuthorityClient } from '../api/authority-client.js';
import { initSodium } from '../crypto/sodium.js';
import { parseRosterFile } from '../keys/roster.js';
import { toPeerCardFile } from '../identity/peer-card.js';
import { dataOption, jsonOption, output, parseDuration, readInput } from './context.js';

function describeRoster(roster: RosterSummary | undefined, configured: boolean): string[] {
  if (!configured) return ['No roster key configured (federation.rosterKey): peers are pinned by operators only.'];
  if (!roster)
    return [
      'A roster key is configured but no roster is loaded: no peer can be pinned. Run: tracenet roster load <file>',
    ];
  const lines = [
    `Roster ${roster.federation || '(unnamed)'} serial ${roster.serial}: ${roster.state}`,
    `  issued ${new Date(roster.issuedAtMs).toISOString()}, expires ${new Date(roster.expiresAtMs).toISOString()}, peers refused from ${new Date(roster.graceUntilMs).toISOString()} unless renewed`,
    `  members: ${roster.members.join(', ') || 'none'}`,
  ];
  if (roster.revoked.length > 0) lines.push(`  revoked keys: ${roster.revoked.join(', ')}`);
  return lines;
}

/**
 * Registers `tracenet keys rotate|revoke` and `tracenet roster load|show` (docs/operations.md,
 * "Keys and roster"). Every command talks to the running node: a rotation must reach the peers
 * through its outbox, and a roster is enforced by the running node.
 *
 * @example
 * ```ts
 * registerKeyCommands(program, { connect: requireAuthority });
 * ```
 */
export function registerKeyCommands(
  program: Command,
  deps: { connect: (dataDir: string) => Promise<LocalAuthorityClient> },
): void {
  const keys = program.command('keys').description("rotate or revoke this node's keys");

  keys
    .command('rotate')
    .description(
      'new signing, encryption and TLS keys and a new card, announced to every pinned peer with a message signed by the old keys; the old keys stay valid for the grace',
    )
    .option(
      '--grace <duration>',
      'how long the old keys stay valid for messages in flight, e.g. 24h (default keys.rotationGraceMs)',
    )
    .option('-o, --out <file>', 'also write the new card file here, to give to peers out of band')
    .addOption(dataOption())
    .addOption(jsonOption())
    .action(async (options: { data: string; json?: boolean; grace?: string; out?: string }) => {
      const client = await deps.connect(options.data);
      try {
        const result = await client.call('rotateKeys', { graceMs: options.grace ? parseDuration(options.grace) : 0 });
        if (options.out && result.card) await writeCard(options.out, result.card);
        output(
          Boolean(options.json),
          { ...result, card: result.card ? toPeerCardFile(result.card) : undefined },
          () => [
            `Keys rotated: ${result.previousKeyId} -> ${result.keyId}; the old keys are accepted until ${new Date(result.graceUntilMs).toISOString()}.`,
            `Announced to: ${result.announcedTo.join(', ') || 'no pinned peer'}.`,
          ],
        );
      } finally {
        client.close();
      }
    });

  keys
    .command('revoke')
    .description(
      'declare the current keys compromised: new keys at once, the old ones refused at once, and a revocation signed by the new keys sent to every peer (peers open it after pinning the new card out of band or from a roster)',
    )
    .option('--reason <text>', 'why, for the peers (no secrets)', '')
    .option('-o, --out <file>', 'write the new card file here, to give to peers out of band')
    .addOption(dataOption())
    .addOption(jsonOption())
    .action(async (options: { data: string; json?: boolean; reason: string; out?: string }) => {
      const client = await deps.connect(options.data);
      try {
        const result = await client.call('revokeKeys', { reason: options.reason });
        if (options.out && result.card) await writeCard(options.out, result.card);
        output(
          Boolean(options.json),
          { ...result, card: result.card ? toPeerCardFile(result.card) : undefined },
          () => [
            `Key ${result.revokedKeyId} revoked; new key ${result.keyId}.`,
            `Give the new card to every peer out of band (tracenet peers export); they pin it with: tracenet peers add <card> --replace-keys`,
            `Revocation queued to: ${result.announcedTo.join(', ') || 'no pinned peer'}.`,
          ],
        );
      } finally {
        client.close();
      }
    });

  const roster = program.command('roster').description('the federation roster signed by the federation operator');

  roster
    .command('load')
    .description('verify a roster file with the operator key (federation.rosterKey) and install it')
    .argument('<file>', 'roster file (format tracenet-roster/1)')
    .addOption(dataOption())
    .addOption(jsonOption())
    .action(async (file: string, options: { data: string; json?: boolean }) => {
      await initSodium();
      const signed = parseRosterFile(await readInput(file, `roster file ${file} does not exist`));
      const client = await deps.connect(options.data);
      try {
        const result = await client.call('loadRoster', { roster: signed });
        output(Boolean(options.json), result.roster, () => describeRoster(result.roster, true));
      } finally {
        client.close();
      }
    });

  roster
    .command('show')
    .description('describe the installed roster')
    .addOption(dataOption())
    .addOption(jsonOption())
    .action(async (options: { data: string; json?: boolean }) => {
      const client = await deps.connect(options.data);
      try {
        const result = await client.call('getRoster', {});
        output(Boolean(options.json), result, () => describeRoster(result.roster, result.configured));
      } finally {
        client.close();
      }
    });
}

async function writeCard(path: string, card: PeerCard): Promise<void> {
  await writeFile(path, `${JSON.stringify(toPeerCardFile(card), null, 2)}\n`);
}
