import {
  itemCategoryFromJSON,
  ReasonCode,
  reasonCodeFromJSON,
  type SdgRow,
  SdgStatus,
  seizureCircumstanceFromJSON,
  weaponTypeFromJSON,
} from '@tracenet/proto/browser';
import { t } from '../../i18n.js';
import { circumstanceLabel, itemCategoryLabel, typeLabel } from '../records/labels.js';

const STATUS_TEXT: Record<number, () => string> = {
  [SdgStatus.SDG_STATUS_TRACED]: () => t('stats.status.traced'),
  [SdgStatus.SDG_STATUS_ESTABLISHED_OTHERWISE]: () => t('stats.status.establishedOtherwise'),
  [SdgStatus.SDG_STATUS_PENDING]: () => t('stats.status.pending'),
  [SdgStatus.SDG_STATUS_NOT_ESTABLISHED]: () => t('stats.status.notEstablished'),
  [SdgStatus.SDG_STATUS_NOT_ATTEMPTED]: () => t('stats.status.notAttempted'),
};
const FINDING_TEXT: Record<string, () => string> = {
  seized: () => t('stats.finding.seized'),
  found: () => t('stats.finding.found'),
  surrendered: () => t('stats.finding.surrendered'),
};
const REASON_TEXT: Record<number, () => string> = {
  [ReasonCode.REASON_CODE_ONGOING_CRIMINAL_INVESTIGATION]: () => t('stats.reason.investigation'),
  [ReasonCode.REASON_CODE_LEGAL_CONFIDENTIALITY]: () => t('stats.reason.confidentiality'),
  [ReasonCode.REASON_CODE_NATIONAL_SECURITY]: () => t('stats.reason.nationalSecurity'),
  [ReasonCode.REASON_CODE_OTHER]: () => t('stats.reason.other'),
};

/** Where an item stands for 16.4.2: "Traced", "Established otherwise", … */
export const sdgStatusLabel = (value: number) => STATUS_TEXT[value]?.() ?? t('stats.status.unknown');
/** "Seized", "Found", "Surrendered"; the node's word when it is another. */
export const findingLabel = (finding: string) => FINDING_TEXT[finding]?.() ?? finding;
/** A refusal reason (a ReasonCode name) in the officer's words. */
export const reasonLabel = (name: string) => REASON_TEXT[reasonCodeFromJSON(name)]?.() ?? t('stats.reason.unknown');

/**
 * The group of a table row in the officer's language: a weapon type, circumstance or item
 * category from its enumeration name; a manufacturer and model (data) as the node wrote it.
 */
export function rowLabel(row: SdgRow): string {
  const named =
    row.dimension === 'type'
      ? typeLabel(weaponTypeFromJSON(row.key))
      : row.dimension === 'circumstance'
        ? circumstanceLabel(seizureCircumstanceFromJSON(row.key))
        : row.dimension === 'category'
          ? itemCategoryLabel(itemCategoryFromJSON(row.key))
          : '';
  if (named !== '') return named;
  // An unspecified enumeration, or a manufacturer and model both unknown ("" | "").
  if (row.key.endsWith('_UNSPECIFIED') || row.key.replace(/[\s|]/g, '') === '') return t('stats.notStated');
  return row.label || row.key;
}
