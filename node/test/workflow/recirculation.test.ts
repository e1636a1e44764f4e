import { DestructionState, type RecordQuery, TraceRequest, WeaponRecord } from '@tracenet/proto';
import { describe, expect, it } from 'vitest';
import type { RecordFinder } from '../../src/ports/record-finder.js';
import { recirculationOfRequest } from '../../src/workflow/recirculation.js';
import { testLogger } from '../support/nodes.js';

/** The requested side of docs/protocol.md 19.5, against a fake finder. */

const destroyed = WeaponRecord.fromPartial({
  recordId: 'rec-1',
  destruction: {
    state: DestructionState.DESTRUCTION_STATE_DESTROYED,
    designatedDate: '2026-01-05',
    destroyedDate: '2026-01-10',
    certificateId: `dc_${'A'.repeat(22)}`,
  },
});

function finder(found: WeaponRecord[], asked: RecordQuery[] = []): RecordFinder {
  return {
    identify: async (query) => {
      asked.push(query);
      return { records: found, incomplete: [], near: [] };
    },
  };
}

function request(seized: string, serials: { marked?: string; component?: string }): TraceRequest {
  return TraceRequest.fromPartial({
    traceId: 'tr-1',
    weapon: {
      markings: { manufacturer: 'FN Herstal', model: 'FAL', serialNumber: serials.marked ?? '' },
      controlComponent: { serialNumber: serials.component ?? '' },
    },
    circumstances: { date: seized },
  });
}

const deps = { selfId: 'BEL', requester: 'FRA', nowMs: Date.UTC(2026, 5, 1), logger: testLogger() };

describe('recirculationOfRequest', () => {
  it('searches the control component serial of an unmarked frame, and flags a seizure after the destruction', async () => {
    const asked: RecordQuery[] = [];
    const finding = await recirculationOfRequest(
      finder([destroyed], asked),
      request('2026-02-01', { component: 'CC-7' }),
      deps,
    );
    expect(asked.map((q) => q.serialNumber)).toEqual(['CC-7']);
    expect(finding).toMatchObject({
      destroyedBy: 'BEL',
      destroyedDate: '2026-01-10',
      seenIn: 'trace_request',
      seenBy: 'FRA',
      seenDate: '2026-02-01',
      recordId: 'rec-1',
    });
  });

  it('does not flag a seizure on the day of the destruction, and does not search without a serial', async () => {
    expect(await recirculationOfRequest(finder([destroyed]), request('2026-01-10', { marked: 'S1' }), deps)).toBe(
      undefined,
    );
    const asked: RecordQuery[] = [];
    expect(await recirculationOfRequest(finder([destroyed], asked), request('', {}), deps)).toBe(undefined);
    expect(asked).toEqual([]);
  });

  it('finds nothing when the records cannot be searched: the request is still accepted', async () => {
    const failing: RecordFinder = {
      identify: async () => {
        throw new Error('registry down');
      },
    };
    await expect(recirculationOfRequest(failing, request('', { marked: 'S1' }), deps)).resolves.toBe(undefined);
  });
});
