import type { ConformanceCase } from '../case.js';
import { AUTHORITY_CASES, OUTBOUND_CASES } from './authority.js';
import { DELIVERY_CASES } from './delivery.js';
import { DESTRUCTION_CASES } from './destruction.js';
import { ENVELOPE_CASES } from './envelope.js';
import { FEDERATION_PORT_CASES } from './federation-port.js';
import { KEY_CASES, ROSTER_CASES } from './keys.js';
import { LOOKUP_CASES } from './lookups.js';
import { QUALITY_CASES } from './quality.js';
import { REQUIRED_CASES } from './required.js';
import { REEXPORT_CASES } from './reexport.js';
import { RESTART_CASES } from './restart.js';
import { STATISTICS_CASES } from './statistics.js';
import { VECTOR_CASES } from './vectors.js';
import { DEADLINE_CASES, PANEL_CASES, RESTRICTION_CASES } from './policy.js';
import { ACCESS_CASES, REQUEST_CASES, WORKFLOW_CASES } from './workflow.js';

/** Every case of the suite, in the order they run. Ids are unique (a test checks it). */
export const ALL_CASES: readonly ConformanceCase[] = [
  ...VECTOR_CASES,
  ...ENVELOPE_CASES,
  ...REQUIRED_CASES,
  ...DELIVERY_CASES,
  ...ACCESS_CASES,
  ...REQUEST_CASES,
  ...WORKFLOW_CASES,
  ...DEADLINE_CASES,
  ...LOOKUP_CASES,
  ...DESTRUCTION_CASES,
  ...RESTRICTION_CASES,
  ...PANEL_CASES,
  ...QUALITY_CASES,
  ...REEXPORT_CASES,
  ...KEY_CASES,
  ...ROSTER_CASES,
  ...AUTHORITY_CASES,
  ...OUTBOUND_CASES,
  ...STATISTICS_CASES,
  ...FEDERATION_PORT_CASES,
  ...RESTART_CASES,
];
