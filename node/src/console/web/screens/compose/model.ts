import {
  ComponentKind,
  FindingKind,
  IllicitKind,
  ManufactureMethod,
  type Photo,
  Priority,
  SeizureCircumstance,
  type TraceRequest,
  WeaponType,
} from '@tracenet/proto/browser';
import type { DeepPartial } from '../../api.js';

/** A photo of the markings, reduced in the browser (photos.ts) and ready to send. */
export interface ComposePhoto {
  readonly key: string;
  readonly mediaType: string;
  readonly content: Uint8Array;
  /** An object URL of `content`, for the preview; revoked when the photo is removed. */
  readonly url: string;
  /** Bytes of the file the officer chose. */
  readonly originalBytes: number;
  readonly width: number;
  readonly height: number;
  caption: string;
}

export interface ComposeCriterion {
  kind: string;
  legalBasis: string;
}
export interface ComposeImport {
  country: string;
  year: string;
}
export interface ComposeComponent {
  kind: string;
  serialNumber: string;
  marking: string;
}

/** What the compose form holds: text as typed, enums as their numbers in strings ('' for none). */
export interface ComposeForm {
  recipient: string;
  requestingAuthority: string;
  caseReference: string;
  priority: string;
  urgencyJustification: string;
  criteria: ComposeCriterion[];
  findingKind: string;
  /** The circumstance of the seizure, finding or surrender (SeizureCircumstance, for SDG 16.4.2). */
  circumstance: string;
  findingDate: string;
  findingPlace: string;
  findingAgency: string;
  findingDescription: string;
  manufacturer: string;
  countryOfManufacture: string;
  serialNumber: string;
  /** The serial number is obliterated, wholly or in part (WeaponDescription.serial_obliterated). */
  serialObliterated: boolean;
  model: string;
  type: string;
  calibre: string;
  year: string;
  imports: ComposeImport[];
  noImportMarks: boolean;
  governmentCountry: string;
  governmentYear: string;
  controlKind: string;
  controlSerial: string;
  controlMarking: string;
  components: ComposeComponent[];
  manufactureMethod: string;
  photos: ComposePhoto[];
  otherInformation: string;
  intendedUse: string;
  hitReference: string;
}

/** The choices of each enum the form offers (UNSPECIFIED left out), as numbers. */
const values = (e: Record<string, string | number>): number[] =>
  Object.values(e).filter((v): v is number => typeof v === 'number' && v > 0);
export const ILLICIT_KINDS = values(IllicitKind);
export const FINDING_KINDS = values(FindingKind);
export const SEIZURE_CIRCUMSTANCES = values(SeizureCircumstance);
export const WEAPON_TYPES = values(WeaponType);
export const COMPONENT_KINDS = values(ComponentKind);
export const MANUFACTURE_METHODS = values(ManufactureMethod);

/** Most photos of one request: each up to 1 MiB, and all must fit in one 4 MiB envelope. */
export const MAX_PHOTOS = 3;
/** The protocol's limit for one photo (docs/protocol.md 12.2, `weapon.photos[i].content`). */
export const MAX_PHOTO_BYTES = 1024 * 1024;

/** Text lengths the node accepts (docs/protocol.md 12.2). */
export const MAX = {
  requestingAuthority: 500,
  caseReference: 200,
  legalBasis: 1000,
  place: 500,
  calibre: 100,
  intendedUse: 2000,
  text: 10_000,
  short: 200,
} as const;

export function emptyForm(): ComposeForm {
  return {
    recipient: '',
    requestingAuthority: '',
    caseReference: '',
    priority: String(Priority.PRIORITY_ROUTINE),
    urgencyJustification: '',
    criteria: [{ kind: '', legalBasis: '' }],
    findingKind: '',
    circumstance: '',
    findingDate: '',
    findingPlace: '',
    findingAgency: '',
    findingDescription: '',
    manufacturer: '',
    countryOfManufacture: '',
    serialNumber: '',
    serialObliterated: false,
    model: '',
    type: '',
    calibre: '',
    year: '',
    imports: [],
    noImportMarks: false,
    governmentCountry: '',
    governmentYear: '',
    controlKind: '',
    controlSerial: '',
    controlMarking: '',
    components: [],
    manufactureMethod: '',
    photos: [],
    otherInformation: '',
    intendedUse: '',
    hitReference: '',
  };
}

const clip = (value: string | null, max: number) => (value ?? '').slice(0, max);

/**
 * The form prefilled from the route's query: the lookups screen links here with the markings of a
 * weapon (`#/compose?manufacturer=..&serial=..&model=..&calibre=..&recipient=..`; also `type` as
 * a WeaponType number or name, `country` of manufacture and `hit`, a lookup hit's reference).
 */
export function formFromQuery(query: URLSearchParams): ComposeForm {
  const form = emptyForm();
  form.manufacturer = clip(query.get('manufacturer'), MAX.short);
  form.serialNumber = clip(query.get('serial'), MAX.short);
  form.model = clip(query.get('model'), MAX.short);
  form.calibre = clip(query.get('calibre'), MAX.calibre);
  form.recipient = clip(query.get('recipient'), 64);
  form.countryOfManufacture = clip(query.get('country'), 3).toUpperCase();
  form.hitReference = clip(query.get('hit'), MAX.short);
  const type = query.get('type') ?? '';
  const byName = (WeaponType as unknown as Record<string, number>)[type.toUpperCase()];
  const byNumber = Number(type);
  if (WEAPON_TYPES.includes(byNumber)) form.type = String(byNumber);
  else if (byName !== undefined && WEAPON_TYPES.includes(byName)) form.type = String(byName);
  return form;
}

/** The generated type of bytes is Node's Buffer; in the browser the codec takes a Uint8Array (buffer-shim.ts). */
type Bytes = Photo['content'];

const year = (text: string) => {
  const n = Number(text);
  return Number.isInteger(n) && n > 0 && n < 10_000 ? n : 0;
};
const num = (text: string) => Number(text) || 0;

/** The TraceRequest the form describes (trace and chain ids are the node's to choose). */
export function toRequest(form: ComposeForm): DeepPartial<TraceRequest> {
  const control =
    form.controlKind !== '' || form.controlSerial.trim() !== '' || form.controlMarking.trim() !== ''
      ? { kind: num(form.controlKind), serialNumber: form.controlSerial.trim(), marking: form.controlMarking.trim() }
      : undefined;
  const government =
    form.governmentCountry.trim() !== ''
      ? { country: form.governmentCountry.trim().toUpperCase(), year: year(form.governmentYear) }
      : undefined;
  return {
    requestingAuthority: form.requestingAuthority,
    caseReference: form.caseReference,
    priority: num(form.priority),
    urgencyJustification: form.priority === String(Priority.PRIORITY_URGENT) ? form.urgencyJustification : '',
    illicitCriteria: form.criteria
      .filter((c) => c.kind !== '' || c.legalBasis.trim() !== '')
      .map((c) => ({ kind: num(c.kind), legalBasis: c.legalBasis })),
    circumstances: {
      kind: num(form.findingKind),
      circumstance: num(form.circumstance),
      date: form.findingDate,
      place: form.findingPlace,
      agency: form.findingAgency,
      description: form.findingDescription,
    },
    weapon: {
      markings: {
        manufacturer: form.manufacturer.trim(),
        countryOfManufacture: form.countryOfManufacture.trim().toUpperCase(),
        serialNumber: form.serialNumber.trim(),
        model: form.model.trim(),
        type: num(form.type),
        calibre: form.calibre.trim(),
        year: year(form.year),
      },
      imports: form.imports
        .filter((i) => i.country.trim() !== '')
        .map((i) => ({ country: i.country.trim().toUpperCase(), year: year(i.year) })),
      ...(government ? { governmentTransfer: government } : {}),
      ...(control ? { controlComponent: control } : {}),
      components: form.components
        .filter((c) => c.kind !== '' || c.serialNumber.trim() !== '' || c.marking.trim() !== '')
        .map((c) => ({ kind: num(c.kind), serialNumber: c.serialNumber.trim(), marking: c.marking.trim() })),
      manufactureMethod: num(form.manufactureMethod),
      photos: form.photos.map((p) => ({
        mediaType: p.mediaType,
        content: p.content as unknown as Bytes,
        caption: p.caption,
      })),
      otherInformation: form.otherInformation.trim(),
      serialObliterated: form.serialObliterated,
    },
    intendedUse: form.intendedUse,
    hitReference: form.hitReference,
  };
}

/** One line of the completeness check: what it asks for, whether the protocol requires it, whether it is there. */
export interface CheckItem {
  /** The catalogue key's last part (`compose.check.<id>`) and the id of the form control to go to. */
  readonly id: string;
  readonly required: boolean;
  readonly done: boolean;
}

const FRAME_KINDS = new Set<number>([
  ComponentKind.COMPONENT_KIND_FRAME,
  ComponentKind.COMPONENT_KIND_RECEIVER,
  ComponentKind.COMPONENT_KIND_LOWER_RECEIVER,
  ComponentKind.COMPONENT_KIND_UPPER_RECEIVER,
]);

/** Whether `value` is a calendar date YYYY-MM-DD that exists. */
export function isDate(value: string): boolean {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(value)) return false;
  const d = new Date(`${value}T00:00:00Z`);
  return !Number.isNaN(d.getTime()) && d.toISOString().startsWith(value);
}

/**
 * The completeness check (an incomplete description is the most common reason a trace fails):
 * what the protocol requires (docs/protocol.md 12.2 — the node refuses a request without it, with
 * REQUEST_INCOMPLETE), then what a tracing officer recommends for a weapon to be identified.
 */
export function checkCompleteness(form: ComposeForm): CheckItem[] {
  const filled = (text: string) => text.trim() !== '';
  const unmarked = form.criteria.some((c) => c.kind === String(IllicitKind.ILLICIT_KIND_NOT_MARKED));
  const criteria = form.criteria.filter((c) => c.kind !== '' || filled(c.legalBasis));
  const frameSerial =
    filled(form.serialNumber) || (FRAME_KINDS.has(num(form.controlKind)) && filled(form.controlSerial));
  const anySerial = filled(form.serialNumber) || filled(form.controlSerial);
  const items: CheckItem[] = [
    { id: 'recipient', required: true, done: form.recipient !== '' },
    { id: 'requestingAuthority', required: true, done: filled(form.requestingAuthority) },
    { id: 'caseReference', required: true, done: filled(form.caseReference) },
    {
      id: 'criteria',
      required: true,
      done: criteria.length > 0 && criteria.every((c) => c.kind !== '' && filled(c.legalBasis)),
    },
    { id: 'findingKind', required: true, done: form.findingKind !== '' },
    { id: 'findingDate', required: true, done: isDate(form.findingDate) },
    { id: 'findingPlace', required: true, done: filled(form.findingPlace) },
    { id: 'serialNumber', required: !unmarked, done: unmarked ? frameSerial : anySerial && frameSerial },
    { id: 'manufacturer', required: !unmarked, done: filled(form.manufacturer) },
    { id: 'type', required: true, done: form.type !== '' },
    { id: 'calibre', required: true, done: filled(form.calibre) },
    { id: 'intendedUse', required: true, done: filled(form.intendedUse) },
    { id: 'model', required: false, done: filled(form.model) },
    { id: 'countryOfManufacture', required: false, done: /^[A-Za-z]{3}$/.test(form.countryOfManufacture.trim()) },
    { id: 'imports', required: false, done: form.noImportMarks || form.imports.some((i) => filled(i.country)) },
    { id: 'photos', required: false, done: form.photos.length > 0 },
  ];
  if (form.priority === String(Priority.PRIORITY_URGENT))
    items.splice(3, 0, { id: 'urgencyJustification', required: true, done: filled(form.urgencyJustification) });
  // Without a serial on the frame or receiver the protocol is satisfied by a component's serial,
  // but the trace mostly is not: then it is a recommendation.
  const serial = items.find((i) => i.id === 'serialNumber');
  if (serial && !unmarked && anySerial && !frameSerial)
    items.splice(items.indexOf(serial), 1, { id: 'serialNumber', required: false, done: false });
  return items;
}

/**
 * The form control of a field the node named in a refusal (`request.weapon.markings.serial_number`
 * → `serialNumber`), or '' when the form has none.
 */
export function controlOfField(field: string): string {
  const path = field.replace(/^request\./, '');
  const exact: Record<string, string> = {
    recipient: 'recipient',
    requesting_authority: 'requestingAuthority',
    case_reference: 'caseReference',
    priority: 'priority',
    urgency_justification: 'urgencyJustification',
    illicit_criteria: 'criteria',
    circumstances: 'findingKind',
    'circumstances.kind': 'findingKind',
    'circumstances.date': 'findingDate',
    'circumstances.place': 'findingPlace',
    'circumstances.circumstance': 'circumstance',
    'weapon.serial_obliterated': 'serialObliterated',
    'weapon.markings': 'manufacturer',
    'weapon.markings.serial_number': 'serialNumber',
    'weapon.markings.manufacturer': 'manufacturer',
    'weapon.markings.type': 'type',
    'weapon.markings.calibre': 'calibre',
    intended_use: 'intendedUse',
  };
  if (exact[path]) return exact[path];
  if (path.startsWith('illicit_criteria[')) return 'criteria';
  if (path.startsWith('weapon.photos')) return 'photos';
  return '';
}

/**
 * The form control of each item of the node's completeness check (RequestCheck, docs/protocol.md
 * 17.1), for the button that takes the officer to it.
 */
export const NODE_ITEM_CONTROL: Readonly<Record<string, string>> = {
  control_serial: 'serialNumber',
  manufacturer: 'manufacturer',
  model: 'model',
  calibre: 'calibre',
  country_of_manufacture: 'countryOfManufacture',
  import_marks: 'imports',
  photos: 'photos',
  serial_obliterated: 'serialObliterated',
};
