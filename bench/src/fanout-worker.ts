/**
 * Child process of the fan-out benchmark (section 5): hosts many responders, each a complete
 * TracenetNode (own identity, LevelDB store with store.sync off, Federation server with TLS on its
 * own loopback port) in this one process, because 193 node processes do not fit on two cores.
 * Protocol over IPC:
 *   → { type: 'start', ids, baseDir, holders, advertise? }
 *                                              ← { type: 'started', cards: base64 PeerCard[], addresses }
 *     (`advertise[k]`, when given, is the endpoint in the card of `ids[k]`: the address of its latency
 *     proxy; `addresses[k]` is where that node's Federation port listens.)
 *   → { type: 'pin', card }                      ← { type: 'pinned' }  (pins the asker, allows its lookups)
 *   → { type: 'stop' }                           ← { type: 'stopped' } and exits
 */
import { join } from 'node:path';
import { initDataDir, initSodium, loadConfig, TracenetNode } from '@tracenet/node';
import {
  InterestCategory,
  PeerCard,
  PeerCardBody,
  PeerPolicy,
  WeaponRecord,
  WeaponStatus,
  WeaponEventType,
} from '@tracenet/proto';
import { FANOUT_WEAPON } from './dataset.js';

const nodes: TracenetNode[] = [];

async function start(
  ids: readonly string[],
  baseDir: string,
  holders: readonly string[],
  advertise: readonly string[],
): Promise<{ cards: string[]; addresses: string[] }> {
  await initSodium();
  const configOf = (endpoint: string | undefined) =>
    loadConfig({
      overrides: {
        'federation.listen': '127.0.0.1:0',
        'federation.advertise': endpoint === undefined ? [] : [endpoint],
        'authority.listen': '127.0.0.1:0',
        'metrics.listen': '',
        'log.level': 'silent',
        'store.sync': false,
      },
    });
  const cards: string[] = [];
  const addresses: string[] = [];
  for (const [k, participantId] of ids.entries()) {
    const dataDir = join(baseDir, participantId);
    await initDataDir({ dataDir, participantId, endpoints: ['127.0.0.1:1'], nowMs: Date.now() });
    const node = await TracenetNode.open({ dataDir, config: await configOf(advertise[k]) });
    await node.start();
    nodes.push(node);
    if (holders.includes(participantId)) {
      const { record } = await node.records.put(
        WeaponRecord.fromPartial({
          manufacture: { ...FANOUT_WEAPON, countryOfManufacture: 'AUT', year: 2015 },
          manufactureMethod: 1,
          status: WeaponStatus.WEAPON_STATUS_STOLEN,
          events: [
            {
              type: WeaponEventType.WEAPON_EVENT_TYPE_STOLEN,
              date: '2020-02-02',
              place: 'armoury',
              agency: 'police',
              destination: '',
              origin: '',
              licence: '',
              endUser: '',
              details: '',
              circumstance: 0,
              undertaking: undefined,
            },
          ],
        }),
      );
      await node.records.report(record.recordId, {
        category: InterestCategory.INTEREST_CATEGORY_STOLEN,
        date: '2020-02-02',
        agency: 'police',
        reference: `R-${participantId}`,
        contactPoint: `NCB ${participantId}`,
      });
    }
    cards.push(Buffer.from(PeerCard.encode(node.card).finish()).toString('base64'));
    addresses.push(node.federationAddress);
  }
  return { cards, addresses };
}

async function pin(cardBase64: string): Promise<void> {
  const card = PeerCard.decode(Buffer.from(cardBase64, 'base64'));
  const asker = PeerCardBody.decode(card.body).participantId;
  for (const node of nodes) {
    await node.peers.pin(card, Date.now());
    await node.policies.set(
      PeerPolicy.fromPartial({ participantId: asker, allowLookups: true, lookupsPerMinute: 1_000_000 }),
    );
  }
}

const reply = (message: object) => new Promise<void>((resolve) => process.send?.(message, () => resolve()));

process.on(
  'message',
  (message: {
    type: string;
    ids?: string[];
    baseDir?: string;
    holders?: string[];
    advertise?: string[];
    card?: string;
  }) => {
    const run = async () => {
      if (message.type === 'start')
        await reply({
          type: 'started',
          ...(await start(message.ids ?? [], message.baseDir ?? '', message.holders ?? [], message.advertise ?? [])),
        });
      else if (message.type === 'pin') {
        await pin(message.card ?? '');
        await reply({ type: 'pinned' });
      } else if (message.type === 'rss') await reply({ type: 'rss', rss: process.memoryUsage().rss });
      else if (message.type === 'stop') {
        await Promise.all(nodes.map((n) => n.stop()));
        await reply({ type: 'stopped' });
        process.exit(0);
      }
    };
    run().catch((error: unknown) =>
      reply({ type: 'error', error: error instanceof Error ? (error.stack ?? error.message) : String(error) }),
    );
  },
);
process.on('disconnect', () => process.exit(0));
