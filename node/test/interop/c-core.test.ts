/**
 * gRPC C-core clients (Python, C++) against a real node (docs/protocol.md 2.5). C-core always
 * checks the server certificate's host name against its target name, so a node's certificate must
 * name `tracenet-peer`, the name every client sets as target name override. The client here is
 * Debian's python3-grpcio (C-core) running ./get_peer_card.py; the node, its certificate and the
 * client's certificate and key all come from `tracenet init`.
 *
 * When python3-grpcio is missing the test installs it as root (`apt-get update`, then
 * `apt-get install python3-grpcio`) and says so. When that is impossible it fails with the reason
 * under CI=true, and is skipped with the reason otherwise.
 */
import { spawnSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { GetPeerCardResponse, PeerCard, PeerCardBody } from '@tracenet/proto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dataPaths } from '../../src/identity/data-dir.js';
import { certificateFingerprint, pemToDer } from '../../src/identity/tls.js';
import { type NodeProcess, ProcessBed, requireBuiltCli } from '../integration/processes.js';

/** Debian's interpreter: python3-grpcio installs into its dist-packages, not into another Python on PATH. */
const PYTHON = '/usr/bin/python3';
const CLIENT = fileURLToPath(new URL('./get_peer_card.py', import.meta.url));

type Availability = { readonly ok: true; readonly grpcio: string } | { readonly ok: false; readonly reason: string };

/** The version of grpcio that PYTHON imports, or undefined. */
function grpcioVersion(): string | undefined {
  const probe = spawnSync(PYTHON, ['-c', 'import grpc; print(grpc.__version__)'], { encoding: 'utf8' });
  return probe.status === 0 ? probe.stdout.trim() : undefined;
}

/** Finds python3-grpcio, installing Debian's package as root when it is missing. */
function pythonGrpc(): Availability {
  const found = grpcioVersion();
  if (found) return { ok: true, grpcio: found };
  const apt = spawnSync('apt-get', ['--version'], { stdio: 'ignore' }).status === 0;
  if (process.getuid?.() !== 0 || !apt) {
    return {
      ok: false,
      reason: `${PYTHON} cannot import grpc and this process cannot install it (needs root and apt-get): install Debian's python3-grpcio`,
    };
  }
  console.info(
    "[c-core] python3-grpcio not found: running apt-get update, then installing Debian's package python3-grpcio with apt-get (once)…",
  );
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const update = spawnSync('apt-get', ['update'], { encoding: 'utf8', env, timeout: 300_000 });
  if (update.status !== 0)
    return {
      ok: false,
      reason: `apt-get update failed: ${(update.stderr || String(update.error)).trim().split('\n').slice(-3).join(' ')}`,
    };
  const install = spawnSync('apt-get', ['install', '-y', '--no-install-recommends', 'python3-grpcio'], {
    encoding: 'utf8',
    env,
    timeout: 600_000,
  });
  if (install.status !== 0)
    return {
      ok: false,
      reason: `apt-get install python3-grpcio failed: ${(install.stderr || String(install.error)).trim().split('\n').slice(-3).join(' ')}`,
    };
  const installed = grpcioVersion();
  return installed
    ? { ok: true, grpcio: installed }
    : { ok: false, reason: `python3-grpcio is installed but ${PYTHON} still cannot import grpc` };
}

const python = pythonGrpc();
if (!python.ok && process.env.CI) throw new Error(`C-core interop: CI must run it, but ${python.reason}`);

/** What the Python client printed. */
type Outcome =
  | { readonly ok: true; readonly response: string; readonly grpcio: string }
  | { readonly ok: false; readonly code: string; readonly details: string };

/** Runs the C-core client once against `address`. */
function callGetPeerCard(
  address: string,
  serverCertificate: string,
  client?: { certificate: string; key: string },
  targetName?: string,
): Outcome {
  const args = [CLIENT, address, serverCertificate, ...(client ? [client.certificate, client.key] : [])];
  const run = spawnSync(PYTHON, args, {
    encoding: 'utf8',
    timeout: 30_000,
    env: { ...process.env, ...(targetName ? { TRACENET_TARGET_NAME: targetName } : {}) },
  });
  if (run.status !== 0) throw new Error(`get_peer_card.py exited ${run.status ?? run.signal}: ${run.stderr}`);
  return JSON.parse(run.stdout.trim().split('\n').pop() ?? '') as Outcome;
}

describe.skipIf(!python.ok)(
  `a gRPC C-core client (Python grpcio${python.ok ? ` ${python.grpcio}` : ''}) and the node's mutual TLS${python.ok ? '' : ` (skipped: ${python.reason})`}`,
  () => {
    const bed = new ProcessBed();
    let node: NodeProcess;
    let fraCertificate: string;
    /** A pinned client: its card is pinned on FRA. */
    let bel: { certificate: string; key: string };
    /** A client whose card FRA has not pinned. */
    let ken: { certificate: string; key: string };

    beforeAll(async () => {
      requireBuiltCli();
      const [fraDir, belDir, kenDir] = await Promise.all([bed.init('FRA'), bed.init('BEL'), bed.init('KEN')]);
      await bed.cliOk(['peers', 'add', dataPaths(belDir).card, '--data', fraDir]);
      node = await bed.start(fraDir, { env: { TRACENET_LOG_LEVEL: 'error' } });
      fraCertificate = dataPaths(fraDir).tlsCertificate;
      bel = { certificate: dataPaths(belDir).tlsCertificate, key: dataPaths(belDir).tlsKey };
      ken = { certificate: dataPaths(kenDir).tlsCertificate, key: dataPaths(kenDir).tlsKey };
    });

    afterAll(() => bed.cleanup());

    it("gets the node's card with the node's certificate as root, a pinned client certificate and the target name tracenet-peer", async () => {
      const outcome = callGetPeerCard(node.runtime.federation, fraCertificate, bel);
      expect(outcome, JSON.stringify(outcome)).toMatchObject({ ok: true });
      if (!outcome.ok) return;
      const card = GetPeerCardResponse.decode(Buffer.from(outcome.response, 'hex')).card;
      const { card: current } = await node.client.call('getNodeInfo', {});
      expect(card).toBeDefined();
      expect(current).toBeDefined();
      expect(Buffer.from(PeerCard.encode(card as PeerCard).finish())).toEqual(
        Buffer.from(PeerCard.encode(current as PeerCard).finish()),
      );
      // The certificate the client trusted is the one the card pins.
      const body = PeerCardBody.decode((card as PeerCard).body);
      expect(Buffer.from(body.tlsCertificateSha256)).toEqual(
        certificateFingerprint(pemToDer(await readFile(fraCertificate, 'utf8'))),
      );
    });

    it('is refused without a client certificate', () => {
      expect(callGetPeerCard(node.runtime.federation, fraCertificate)).toMatchObject({
        ok: false,
        code: 'UNAVAILABLE',
      });
    });

    it('is refused with a client certificate that no pinned card names', () => {
      expect(callGetPeerCard(node.runtime.federation, fraCertificate, ken)).toMatchObject({
        ok: false,
        code: 'UNAVAILABLE',
      });
    });

    it('fails its own host name check with a target name the certificate does not carry', () => {
      expect(callGetPeerCard(node.runtime.federation, fraCertificate, bel, 'not-tracenet-peer')).toMatchObject({
        ok: false,
        code: 'UNAVAILABLE',
      });
    });
  },
);
