import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { deflateSync } from 'node:zlib';
import { IllicitKind, type WeaponType } from '@tracenet/proto';
import type { Page } from 'playwright-core';
import { expect } from 'vitest';
import type { ConsoleLanguage } from './browser.js';
import { traceRequest } from './requests.js';

const MESSAGES = fileURLToPath(new URL('../../src/console/web/messages/', import.meta.url));
const catalogues = new Map<ConsoleLanguage, Record<string, string>>();

/**
 * The console's message `key` in `language`, with simple `{name}` arguments filled in (no plural
 * forms): to find a button or a text by what an officer of that language reads.
 */
export function message(language: ConsoleLanguage, key: string, values: Record<string, string> = {}): string {
  let catalogue = catalogues.get(language);
  if (!catalogue) {
    catalogue = {};
    for (const file of readdirSync(`${MESSAGES}${language}`))
      Object.assign(catalogue, JSON.parse(readFileSync(`${MESSAGES}${language}/${file}`, 'utf8')));
    catalogues.set(language, catalogue);
  }
  const text = catalogue[key];
  if (text === undefined) throw new Error(`no message ${key} in ${language}`);
  return text.replace(/\{(\w+)\}/g, (whole, name: string) => values[name] ?? whole);
}

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
function crc32(bytes: Buffer): number {
  let c = 0xffffffff;
  for (const b of bytes) c = (CRC_TABLE[(c ^ b) & 0xff] ?? 0) ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}
function chunk(type: string, data: Buffer): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([length, body, crc]);
}

/** An RGB PNG of `width` × `height`; `rows` fills its raw rows (`stride` bytes each, a filter byte of 0 first). */
function png(width: number, height: number, rows: (raw: Buffer, stride: number) => void, level?: number): Buffer {
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header[8] = 8; // bit depth
  header[9] = 2; // RGB
  const stride = width * 3 + 1; // a filter byte (0, none) before each row
  const raw = Buffer.alloc(stride * height);
  rows(raw, stride);
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', header),
    chunk('IDAT', deflateSync(raw, level === undefined ? {} : { level })),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

/** A small RGB PNG (a gradient with stripes), as a phone photo of markings would be once opened: `width` × `height`. */
export function markingsPng(width = 640, height = 480): Buffer {
  return png(width, height, (raw, stride) => {
    for (let y = 0; y < height; y++)
      for (let x = 0; x < width; x++) {
        const at = y * stride + 1 + x * 3;
        raw[at] = (x * 255) / width;
        raw[at + 1] = (y * 255) / height;
        raw[at + 2] = (x >> 4) % 2 === 0 ? 40 : 200;
      }
  });
}

/** A large RGB PNG of noise (it does not compress): `width` × `height`, several MB. */
export function noisePng(width: number, height: number): Buffer {
  return png(
    width,
    height,
    (raw, stride) => {
      const noise = randomBytes(width * 3 * height);
      for (let y = 0; y < height; y++) noise.copy(raw, y * stride + 1, y * width * 3, (y + 1) * width * 3);
    },
    1,
  );
}

/** The markings of a weapon as the compose form takes them. */
export interface ComposedWeapon {
  manufacturer: string;
  countryOfManufacture: string;
  serialNumber: string;
  model: string;
  type: WeaponType;
  calibre: string;
  year: number;
  /** An import mark (country, year), or none. */
  importMark?: { country: string; year: number };
}

/**
 * Fills the compose form (open at `#/compose`) with a complete request to `recipient` for `weapon`,
 * found in Marseille, with one photo of its markings, and waits until its completeness check lists
 * nothing missing. Works in any language: controls are found by their ids.
 */
export async function fillComposeForm(page: Page, recipient: string, weapon: ComposedWeapon): Promise<void> {
  await page.locator(`#compose-recipient option[value="${recipient}"]`).waitFor({ state: 'attached' });
  await page.locator('#compose-recipient').selectOption(recipient);
  await page.locator('#compose-requestingAuthority').fill('Office central de lutte contre le crime organisé');
  await page.locator('#compose-caseReference').fill('OCLCO-2026-0412');
  await page.locator('#compose-criteria').selectOption(String(IllicitKind.ILLICIT_KIND_NATIONAL_LAW));
  await page.locator('#compose-legalBasis-0').fill('Code de la sécurité intérieure, art. L317-8');
  await page.locator('#compose-findingKind').selectOption('1');
  await page.locator('#compose-findingDate').fill('2026-10-02');
  await page.locator('#compose-findingPlace').fill('Marseille');
  await page.locator('#compose-findingDescription').fill('Seized in a vehicle at the port of Marseille.');
  await page.locator('#compose-manufacturer').fill(weapon.manufacturer);
  await page.locator('#compose-countryOfManufacture').fill(weapon.countryOfManufacture);
  await page.locator('#compose-serialNumber').fill(weapon.serialNumber);
  await page.locator('#compose-model').fill(weapon.model);
  await page.locator('#compose-type').selectOption(String(weapon.type));
  await page.locator('#compose-calibre').fill(weapon.calibre);
  await page.locator('#compose-year').fill(String(weapon.year));
  if (weapon.importMark) {
    // The "add an import mark" button follows the "no import marks" box.
    await page.locator('label.compose-check-box:has(#compose-imports) + button').click();
    await page.locator('input.compose-country#compose-imports').fill(weapon.importMark.country);
    await page.locator('#compose-importYear-0').fill(String(weapon.importMark.year));
  } else await page.locator('#compose-imports').check();
  await page.locator('#compose-intendedUse').fill('Criminal investigation OCLCO-2026-0412');
  await page
    .locator('#compose-photos')
    .setInputFiles({ name: 'markings.png', mimeType: 'image/png', buffer: markingsPng() });
  await page.locator('.compose-photo-size').waitFor();
  await page.locator('.compose-photo input').first().fill('Serial on the slide');
  await page.locator('#compose-check-title').waitFor();
  await waitForCount(page, '.compose-check-required', 0);
  await waitForCount(page, '.compose-check-recommended', 0);
}

/** Sends the filled compose form; resolves with the new case's id once the console shows it. */
export async function sendComposed(page: Page): Promise<string> {
  await page.locator('.compose-actions button[type="submit"]').click();
  await page.waitForURL(/#\/cases\/[^/?]+$/, { timeout: 30_000 });
  await page.locator('.case-summary').waitFor();
  return decodeURIComponent(page.url().split('#/cases/')[1] ?? '');
}

/** Waits until `selector` matches `count` elements (a condition of the page, not a sleep). */
export async function waitForCount(page: Page, selector: string, count: number, timeout = 20_000): Promise<void> {
  await expect.poll(() => page.locator(selector).count(), { timeout }).toBe(count);
}

const FNX45 = traceRequest().weapon?.markings;
if (!FNX45) throw new Error('the trace request fixture has no markings');

/** FN Herstal's FNX-45 of the demo (scripts/demo.mjs) and of the requests fixture, whose records BEL and KEN hold there. */
export const DEMO_PISTOL: ComposedWeapon = {
  manufacturer: FNX45.manufacturer,
  countryOfManufacture: FNX45.countryOfManufacture,
  serialNumber: FNX45.serialNumber,
  model: FNX45.model,
  type: FNX45.type,
  calibre: FNX45.calibre,
  year: FNX45.year,
  importMark: { country: 'KEN', year: 2012 },
};
