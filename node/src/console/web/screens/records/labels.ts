import {
  InterestCategory,
  WeaponEventType,
  WeaponStatus,
  WeaponType,
  ComponentKind,
  ItemCategory,
  ManufactureMethod,
  ReexportCondition,
  SeizureCircumstance,
} from '@tracenet/proto/browser';
import { t } from '../../i18n.js';

/** The enumerations of the record, as the catalogue names their values (records.type.pistol …). */
const TYPES: Record<number, string> = {
  [WeaponType.WEAPON_TYPE_PISTOL]: 'pistol',
  [WeaponType.WEAPON_TYPE_REVOLVER]: 'revolver',
  [WeaponType.WEAPON_TYPE_RIFLE]: 'rifle',
  [WeaponType.WEAPON_TYPE_CARBINE]: 'carbine',
  [WeaponType.WEAPON_TYPE_SHOTGUN]: 'shotgun',
  [WeaponType.WEAPON_TYPE_SUBMACHINE_GUN]: 'submachineGun',
  [WeaponType.WEAPON_TYPE_ASSAULT_RIFLE]: 'assaultRifle',
  [WeaponType.WEAPON_TYPE_MACHINE_GUN]: 'machineGun',
  [WeaponType.WEAPON_TYPE_GRENADE_LAUNCHER]: 'grenadeLauncher',
  [WeaponType.WEAPON_TYPE_MORTAR]: 'mortar',
  [WeaponType.WEAPON_TYPE_RECOILLESS_RIFLE]: 'recoillessRifle',
  [WeaponType.WEAPON_TYPE_OTHER]: 'other',
};
const STATUSES: Record<number, string> = {
  [WeaponStatus.WEAPON_STATUS_REGISTERED]: 'registered',
  [WeaponStatus.WEAPON_STATUS_EXPORTED]: 'exported',
  [WeaponStatus.WEAPON_STATUS_SEIZED]: 'seized',
  [WeaponStatus.WEAPON_STATUS_FOUND]: 'found',
  [WeaponStatus.WEAPON_STATUS_SURRENDERED]: 'surrendered',
  [WeaponStatus.WEAPON_STATUS_LOST]: 'lost',
  [WeaponStatus.WEAPON_STATUS_STOLEN]: 'stolen',
  [WeaponStatus.WEAPON_STATUS_DEACTIVATED]: 'deactivated',
  [WeaponStatus.WEAPON_STATUS_DESTROYED]: 'destroyed',
};
const EVENTS: Record<number, string> = {
  [WeaponEventType.WEAPON_EVENT_TYPE_MANUFACTURED]: 'manufactured',
  [WeaponEventType.WEAPON_EVENT_TYPE_EXPORTED]: 'exported',
  [WeaponEventType.WEAPON_EVENT_TYPE_IMPORTED]: 'imported',
  [WeaponEventType.WEAPON_EVENT_TYPE_TRANSFERRED]: 'transferred',
  [WeaponEventType.WEAPON_EVENT_TYPE_SEIZED]: 'seized',
  [WeaponEventType.WEAPON_EVENT_TYPE_FOUND]: 'found',
  [WeaponEventType.WEAPON_EVENT_TYPE_SURRENDERED]: 'surrendered',
  [WeaponEventType.WEAPON_EVENT_TYPE_LOST]: 'lost',
  [WeaponEventType.WEAPON_EVENT_TYPE_STOLEN]: 'stolen',
  [WeaponEventType.WEAPON_EVENT_TYPE_DEACTIVATED]: 'deactivated',
  [WeaponEventType.WEAPON_EVENT_TYPE_REACTIVATED]: 'reactivated',
  [WeaponEventType.WEAPON_EVENT_TYPE_CONVERTED]: 'converted',
  [WeaponEventType.WEAPON_EVENT_TYPE_DESTROYED]: 'destroyed',
};
const CATEGORIES: Record<number, string> = {
  [InterestCategory.INTEREST_CATEGORY_LOST]: 'lost',
  [InterestCategory.INTEREST_CATEGORY_STOLEN]: 'stolen',
  [InterestCategory.INTEREST_CATEGORY_TRAFFICKED]: 'trafficked',
  [InterestCategory.INTEREST_CATEGORY_SMUGGLED]: 'smuggled',
};
const KINDS: Record<number, string> = {
  [ComponentKind.COMPONENT_KIND_FRAME]: 'frame',
  [ComponentKind.COMPONENT_KIND_RECEIVER]: 'receiver',
  [ComponentKind.COMPONENT_KIND_UPPER_RECEIVER]: 'upperReceiver',
  [ComponentKind.COMPONENT_KIND_LOWER_RECEIVER]: 'lowerReceiver',
  [ComponentKind.COMPONENT_KIND_SLIDE]: 'slide',
  [ComponentKind.COMPONENT_KIND_BARREL]: 'barrel',
  [ComponentKind.COMPONENT_KIND_BOLT]: 'bolt',
  [ComponentKind.COMPONENT_KIND_CYLINDER]: 'cylinder',
  [ComponentKind.COMPONENT_KIND_OTHER]: 'other',
};
const METHODS: Record<number, string> = {
  [ManufactureMethod.MANUFACTURE_METHOD_INDUSTRIAL]: 'industrial',
  [ManufactureMethod.MANUFACTURE_METHOD_CRAFT]: 'craft',
  [ManufactureMethod.MANUFACTURE_METHOD_3D_PRINTED]: 'printed',
  [ManufactureMethod.MANUFACTURE_METHOD_CONVERTED]: 'converted',
};

/** The weapon types an officer can pick, in the order of the contract. */
export const WEAPON_TYPES = Object.keys(TYPES).map(Number);
/** The report categories (iARMS): lost, stolen, trafficked, smuggled. */
export const CATEGORY_VALUES = Object.keys(CATEGORIES).map(Number);

// Each label names its catalogue key in full, so that the catalogue test sees every key asked for.
const TYPE_TEXT: Record<string, () => string> = {
  pistol: () => t('records.type.pistol'),
  revolver: () => t('records.type.revolver'),
  rifle: () => t('records.type.rifle'),
  carbine: () => t('records.type.carbine'),
  shotgun: () => t('records.type.shotgun'),
  submachineGun: () => t('records.type.submachineGun'),
  assaultRifle: () => t('records.type.assaultRifle'),
  machineGun: () => t('records.type.machineGun'),
  grenadeLauncher: () => t('records.type.grenadeLauncher'),
  mortar: () => t('records.type.mortar'),
  recoillessRifle: () => t('records.type.recoillessRifle'),
  other: () => t('records.type.other'),
};
const STATUS_TEXT: Record<string, () => string> = {
  registered: () => t('records.status.registered'),
  exported: () => t('records.status.exported'),
  seized: () => t('records.status.seized'),
  found: () => t('records.status.found'),
  surrendered: () => t('records.status.surrendered'),
  lost: () => t('records.status.lost'),
  stolen: () => t('records.status.stolen'),
  deactivated: () => t('records.status.deactivated'),
  destroyed: () => t('records.status.destroyed'),
};
const EVENT_TEXT: Record<string, () => string> = {
  manufactured: () => t('records.event.manufactured'),
  exported: () => t('records.event.exported'),
  imported: () => t('records.event.imported'),
  transferred: () => t('records.event.transferred'),
  seized: () => t('records.event.seized'),
  found: () => t('records.event.found'),
  surrendered: () => t('records.event.surrendered'),
  lost: () => t('records.event.lost'),
  stolen: () => t('records.event.stolen'),
  deactivated: () => t('records.event.deactivated'),
  reactivated: () => t('records.event.reactivated'),
  converted: () => t('records.event.converted'),
  destroyed: () => t('records.event.destroyed'),
};
const CATEGORY_TEXT: Record<string, () => string> = {
  lost: () => t('records.category.lost'),
  stolen: () => t('records.category.stolen'),
  trafficked: () => t('records.category.trafficked'),
  smuggled: () => t('records.category.smuggled'),
};
const KIND_TEXT: Record<string, () => string> = {
  frame: () => t('records.kind.frame'),
  receiver: () => t('records.kind.receiver'),
  upperReceiver: () => t('records.kind.upperReceiver'),
  lowerReceiver: () => t('records.kind.lowerReceiver'),
  slide: () => t('records.kind.slide'),
  barrel: () => t('records.kind.barrel'),
  bolt: () => t('records.kind.bolt'),
  cylinder: () => t('records.kind.cylinder'),
  other: () => t('records.kind.other'),
};
const METHOD_TEXT: Record<string, () => string> = {
  industrial: () => t('records.method.industrial'),
  craft: () => t('records.method.craft'),
  printed: () => t('records.method.printed'),
  converted: () => t('records.method.converted'),
};

function label(names: Record<number, string>, texts: Record<string, () => string>, value: number): string {
  const name = names[value];
  const text = name ? texts[name] : undefined;
  return text ? text() : '';
}

export const typeLabel = (value: number) => label(TYPES, TYPE_TEXT, value);
export const statusLabel = (value: number) => label(STATUSES, STATUS_TEXT, value);
export const eventLabel = (value: number) => label(EVENTS, EVENT_TEXT, value);
export const categoryLabel = (value: number) => label(CATEGORIES, CATEGORY_TEXT, value);
export const kindLabel = (value: number) => label(KINDS, KIND_TEXT, value);
export const methodLabel = (value: number) => label(METHODS, METHOD_TEXT, value);

/** Statuses that mean the weapon is out of its owner's hands (shown with a warning style, never by colour alone). */
export function isAlarming(status: number): boolean {
  return status === WeaponStatus.WEAPON_STATUS_LOST || status === WeaponStatus.WEAPON_STATUS_STOLEN;
}

// Issue 19: item categories, circumstances of a seizure, destruction and end-user undertakings.
const ITEM_CATEGORY_TEXT: Record<number, () => string> = {
  [ItemCategory.ITEM_CATEGORY_FIREARM]: () => t('records.item.firearm'),
  [ItemCategory.ITEM_CATEGORY_PART]: () => t('records.item.part'),
  [ItemCategory.ITEM_CATEGORY_ACCESSORY]: () => t('records.item.accessory'),
  [ItemCategory.ITEM_CATEGORY_AMMUNITION]: () => t('records.item.ammunition'),
};
const CIRCUMSTANCE_TEXT: Record<number, () => string> = {
  [SeizureCircumstance.SEIZURE_CIRCUMSTANCE_TRAFFICKING]: () => t('records.circumstance.trafficking'),
  [SeizureCircumstance.SEIZURE_CIRCUMSTANCE_ILLICIT_POSSESSION]: () => t('records.circumstance.illicitPossession'),
  [SeizureCircumstance.SEIZURE_CIRCUMSTANCE_CRIME]: () => t('records.circumstance.crime'),
  [SeizureCircumstance.SEIZURE_CIRCUMSTANCE_CONFLICT]: () => t('records.circumstance.conflict'),
  [SeizureCircumstance.SEIZURE_CIRCUMSTANCE_DDR]: () => t('records.circumstance.ddr'),
  [SeizureCircumstance.SEIZURE_CIRCUMSTANCE_VOLUNTARY_SURRENDER]: () => t('records.circumstance.voluntarySurrender'),
  [SeizureCircumstance.SEIZURE_CIRCUMSTANCE_FOUND]: () => t('records.circumstance.found'),
  [SeizureCircumstance.SEIZURE_CIRCUMSTANCE_OTHER]: () => t('records.circumstance.other'),
};
const CONDITION_TEXT: Record<number, () => string> = {
  [ReexportCondition.REEXPORT_CONDITION_PROHIBITED]: () => t('records.undertaking.prohibited'),
  [ReexportCondition.REEXPORT_CONDITION_WITH_CONSENT]: () => t('records.undertaking.withConsent'),
};

/** "Firearm", "Part or component", …; '' for an unspecified category. */
export const itemCategoryLabel = (value: number) => ITEM_CATEGORY_TEXT[value]?.() ?? '';
/** "Illicit trafficking", "Used in a crime", …; '' for an unspecified circumstance. */
export const circumstanceLabel = (value: number) => CIRCUMSTANCE_TEXT[value]?.() ?? '';
/** "Re-export prohibited", "Re-export only with the exporter's consent"; '' when unspecified. */
export const conditionLabel = (value: number) => CONDITION_TEXT[value]?.() ?? '';
