#!/usr/bin/env node
import { writeFile, readFile } from 'node:fs/promises';
import { logVerbosity, setLogVerbosity } from '@grpc/grpc-js';
import { Command } from 'commander';
import { FEATURES, OPTIONAL_FEATURES } from './case.js';
import { ALL_CASES } from './cases/index.js';
import { jsonReport, junitReport, progressLine, textSummary } from './report.js';
import { readExpectedFailures, runSuite } from './runner.js';
import { connectTarget, readCardFile, spawnTarget, type SpawnedTarget, type TargetAddress } from './target.js';

if (process.env.GRPC_VERBOSITY === undefined) setLogVerbosity(logVerbosity.NONE);

const list = (value: string, previous: string[] = []) => [
  ...previous,
  ...value
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== ''),
];
const integer = (value: string) => {
  const n = Number.parseInt(value, 10);
  if (!Number.isInteger(n) || n <= 0) throw new Error(`${value} is not a positive integer`);
  return n;
};

interface Options {
  authority?: string;
  token?: string;
  tokenFile?: string;
  federation?: string;
  card?: string;
  spawn?: string;
  readyTimeout: number;
  keep?: boolean;
  without: string[];
  only: string[];
  expectedFailures?: string;
  json?: string;
  junit?: string;
  list?: boolean;
  quiet?: boolean;
  maxEnvelopeBytes?: number;
  replayWindowMs?: number;
  attemptTimeoutMs?: number;
  maxConnectionsPerAddress?: number;
  handshakeTimeoutMs?: number;
  maxConnectionsPerPeer?: number;
  maxArrivingPerPeer?: number;
  arrivalTimeoutMs?: number;
  caseTimeout: number;
}

const program = new Command('tracenet-conformance')
  .description('Runs the Tracenet conformance suite against a node over the wire (docs/conformance.md).')
  .option('--authority <host:port>', "the node's Authority API address")
  .option('--token <token>', 'the Authority bearer token')
  .option('--token-file <file>', 'file holding the Authority bearer token (e.g. <data>/keys/authority.token)')
  .option('--federation <host:port>', "the node's Federation address (default: from GetNodeInfo)")
  .option('--card <file>', "the node's card file (default: the card GetNodeInfo returns)")
  .option(
    '--spawn <command>',
    'start the node with this shell command; it gets an empty data directory in TRACENET_CONFORMANCE_DATA and must write <data>/node.json when ready',
  )
  .option('--ready-timeout <ms>', 'how long --spawn waits for the node', integer, 30_000)
  .option('--keep', 'keep the data directory of a spawned node')
  .option(
    '--without <features>',
    `optional features the node lacks (${OPTIONAL_FEATURES.join(', ')}); repeatable or comma-separated`,
    list,
    [],
  )
  .option(
    '--only <ids>',
    'run only these case ids, id prefixes (envelope.) or protocol sections (4.5); repeatable or comma-separated',
    list,
    [],
  )
  .option('--expected-failures <file>', 'JSON list of cases known to fail, each with its reason')
  .option('--json <file>', 'write the result as JSON')
  .option('--junit <file>', 'write the result as JUnit XML')
  .option('--max-envelope-bytes <n>', "the node's envelope.maxBytes (default 4194304)", integer)
  .option('--replay-window-ms <n>', "the node's replay window (default 300000)", integer)
  .option('--attempt-timeout-ms <n>', "the node's outbox.attemptTimeoutMs (default 10000)", integer)
  .option(
    '--max-connections-per-address <n>',
    "the node's federation.maxConnectionsPerAddress: connections of one address in their TLS handshake (default 8)",
    integer,
  )
  .option('--handshake-timeout-ms <n>', "the node's federation.handshakeTimeoutMs (default 5000)", integer)
  .option('--max-connections-per-peer <n>', "the node's federation.maxConnectionsPerPeer (default 4)", integer)
  .option(
    '--max-arriving-per-peer <n>',
    "the node's federation.maxArrivingPerPeer: requests of one peer still arriving (default 2)",
    integer,
  )
  .option('--arrival-timeout-ms <n>', "the node's federation.arrivalTimeoutMs (default 10000)", integer)
  .option('--case-timeout <ms>', 'longest time one case may take', integer, 30_000)
  .option('--list', 'list the cases and exit')
  .option('-q, --quiet', 'print only the summary')
  .action(async (options: Options) => {
    if (options.list) {
      for (const c of ALL_CASES)
        process.stdout.write(`${c.id.padEnd(48)} protocol ${c.section.padEnd(6)} ${c.feature.padEnd(12)} ${c.title}\n`);
      process.stdout.write(
        `${ALL_CASES.length} cases; features: ${FEATURES.join(', ')} (optional: ${OPTIONAL_FEATURES.join(', ')})\n`,
      );
      return;
    }
    const expectedFailures = options.expectedFailures ? await readExpectedFailures(options.expectedFailures) : [];
    let spawned: SpawnedTarget | undefined;
    let address: TargetAddress;
    if (options.spawn) {
      spawned = await spawnTarget(options.spawn, {
        readyTimeoutMs: options.readyTimeout,
        ...(options.keep ? { keep: true } : {}),
      });
      address = spawned.address;
    } else {
      if (!options.authority)
        throw new Error('give the target (--authority with --token or --token-file) or --spawn <command>');
      const token =
        options.token ?? (options.tokenFile ? (await readFile(options.tokenFile, 'utf8')).trim() : undefined);
      if (!token) throw new Error('--authority needs --token or --token-file');
      address = {
        authority: options.authority,
        token,
        ...(options.federation ? { federation: options.federation } : {}),
        ...(options.card ? { card: await readCardFile(options.card) } : {}),
      };
    }
    let exitCode = 1;
    try {
      const target = await connectTarget(address);
      try {
        const result = await runSuite(target, {
          without: options.without,
          only: options.only,
          expectedFailures,
          caseTimeoutMs: options.caseTimeout,
          settings: {
            ...(options.maxEnvelopeBytes ? { maxEnvelopeBytes: options.maxEnvelopeBytes } : {}),
            ...(options.replayWindowMs ? { replayWindowMs: options.replayWindowMs } : {}),
            ...(options.attemptTimeoutMs ? { attemptTimeoutMs: options.attemptTimeoutMs } : {}),
            ...(options.maxConnectionsPerAddress ? { maxConnectionsPerAddress: options.maxConnectionsPerAddress } : {}),
            ...(options.handshakeTimeoutMs ? { handshakeTimeoutMs: options.handshakeTimeoutMs } : {}),
            ...(options.maxConnectionsPerPeer ? { maxConnectionsPerPeer: options.maxConnectionsPerPeer } : {}),
            ...(options.maxArrivingPerPeer ? { maxArrivingPerPeer: options.maxArrivingPerPeer } : {}),
            ...(options.arrivalTimeoutMs ? { arrivalTimeoutMs: options.arrivalTimeoutMs } : {}),
          },
          ...(options.spawn ? { spawn: { command: options.spawn, readyTimeoutMs: options.readyTimeout } } : {}),
          ...(options.quiet ? {} : { onResult: (r) => process.stdout.write(`${progressLine(r)}\n`) }),
        });
        process.stdout.write(`\n${textSummary(result)}\n`);
        if (options.json) await writeFile(options.json, jsonReport(result));
        if (options.junit) await writeFile(options.junit, junitReport(result));
        exitCode = result.unexpected > 0 ? 1 : 0;
      } finally {
        target.close();
      }
    } finally {
      await spawned?.stop();
    }
    process.exitCode = exitCode;
  });

program.parseAsync(process.argv).catch((error: unknown) => {
  process.stderr.write(`tracenet-conformance: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 2;
});
