import { IntlMessageFormat } from 'intl-messageformat';

/** The six official languages of the United Nations, in which every screen exists. */
export const LANGUAGES = ['ar', 'zh', 'en', 'fr', 'ru', 'es'] as const;
export type Language = (typeof LANGUAGES)[number];

type Values = Record<string, string | number | Date | undefined>;

let language: Language = 'en';
let catalogue: Readonly<Record<string, string>> = {};
const compiled = new Map<string, IntlMessageFormat>();
const listeners = new Set<() => void>();

function isLanguage(value: string | null | undefined): value is Language {
  return (LANGUAGES as readonly string[]).includes(value ?? '');
}

/** The language an officer chose on this browser, else the browser's own when it is one of the six, else English. */
export function preferredLanguage(officerId = ''): Language {
  const stored = localStorage.getItem(`tracenet.language.${officerId}`) ?? localStorage.getItem('tracenet.language');
  if (isLanguage(stored)) return stored;
  for (const tag of navigator.languages) {
    const base = tag.slice(0, 2).toLowerCase();
    if (isLanguage(base)) return base;
  }
  return 'en';
}

const catalogues = new Map<Language, Promise<Record<string, string>>>();

/** The catalogue of `language`, fetched once (a failed fetch is tried again next time). */
export function loadCatalogue(language: Language): Promise<Record<string, string>> {
  let loading = catalogues.get(language);
  if (!loading) {
    loading = fetch(`/assets/messages/${language}.json`, { credentials: 'same-origin' }).then(async (response) => {
      if (!response.ok) throw new Error(`catalogue ${language}: ${response.status}`);
      return (await response.json()) as Record<string, string>;
    });
    loading.catch(() => catalogues.delete(language));
    catalogues.set(language, loading);
  }
  return loading;
}

/** Loads the catalogue of `next`, sets `lang` and `dir` of the page, remembers the choice for the officer. */
export async function setLanguage(next: Language, officerId = ''): Promise<void> {
  catalogue = await loadCatalogue(next);
  language = next;
  compiled.clear();
  document.documentElement.lang = next;
  document.documentElement.dir = next === 'ar' ? 'rtl' : 'ltr';
  localStorage.setItem('tracenet.language', next);
  if (officerId !== '') localStorage.setItem(`tracenet.language.${officerId}`, next);
  for (const listener of listeners) listener();
}

/** The language of the screens now. */
export function currentLanguage(): Language {
  return language;
}

/** Called after the language changed (the application renders again). */
export function onLanguageChange(listener: () => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

/**
 * The text of `key` in the officer's language, an ICU message formatted with `values`
 * (plurals, selects, numbers and dates per language). A key missing from the catalogue shows as
 * itself — never in a release: node/test/console/catalogues.test.ts fails first.
 *
 * @example
 * ```ts
 * t('inbox.overdue', { count: 3 }); // "3 overdue" / "3 en retard" / "3 متأخرة"
 * ```
 */
export function t(key: string, values?: Values): string {
  const text = catalogue[key];
  if (text === undefined) return key;
  let format = compiled.get(key);
  if (!format) {
    format = new IntlMessageFormat(text, language);
    compiled.set(key, format);
  }
  return String(format.format(values as Record<string, string | number | Date>));
}

/** A date (Unix ms or ISO date) as the officer's language writes it; '' for none. */
export function formatDate(value: number | string): string {
  if (value === 0 || value === '') return '';
  const date = typeof value === 'number' ? new Date(value) : new Date(`${value}T00:00:00Z`);
  if (Number.isNaN(date.getTime())) return String(value);
  return new Intl.DateTimeFormat(language, {
    dateStyle: 'medium',
    timeZone: typeof value === 'string' ? 'UTC' : undefined,
  }).format(date);
}

/** A moment (Unix ms) with date and time, in the officer's language; '' for 0. */
export function formatDateTime(ms: number): string {
  if (ms === 0) return '';
  return new Intl.DateTimeFormat(language, { dateStyle: 'medium', timeStyle: 'short' }).format(new Date(ms));
}

/** A number in the officer's language (Arabic uses its own digits and separators). */
export function formatNumber(value: number): string {
  return new Intl.NumberFormat(language).format(value);
}

/** A duration in the largest fitting unit ("3 days", "٣ أيام"). */
export function formatDuration(ms: number): string {
  const abs = Math.abs(ms);
  const [unit, size] =
    abs >= 86_400_000
      ? (['day', 86_400_000] as const)
      : abs >= 3_600_000
        ? (['hour', 3_600_000] as const)
        : (['minute', 60_000] as const);
  return new Intl.NumberFormat(language, { style: 'unit', unit, unitDisplay: 'long', maximumFractionDigits: 0 }).format(
    Math.round(ms / size),
  );
}

// ISO 3166-1 alpha-3 → alpha-2, for the country names of participant ids (data, not text).
const ALPHA2 = new Map(
  'AFGAF ALBAL DZADZ ANDAD AGOAO ATGAG ARGAR ARMAM AUSAU AUTAT AZEAZ BHSBS BHRBH BGDBD BRBBB BLRBY BELBE BLZBZ BENBJ BTNBT BOLBO BIHBA BWABW BRABR BRNBN BGRBG BFABF BDIBI CPVCV KHMKH CMRCM CANCA CAFCF TCDTD CHLCL CHNCN COLCO COMKM COGCG CODCD CRICR CIVCI HRVHR CUBCU CYPCY CZECZ DNKDK DJIDJ DMADM DOMDO ECUEC EGYEG SLVSV GNQGQ ERIER ESTEE SWZSZ ETHET FJIFJ FINFI FRAFR GABGA GMBGM GEOGE DEUDE GHAGH GRCGR GRDGD GTMGT GINGN GNBGW GUYGY HTIHT HNDHN HUNHU ISLIS INDIN IDNID IRNIR IRQIQ IRLIE ISRIL ITAIT JAMJM JPNJP JORJO KAZKZ KENKE KIRKI PRKKP KORKR KWTKW KGZKG LAOLA LVALV LBNLB LSOLS LBRLR LBYLY LIELI LTULT LUXLU MDGMG MWIMW MYSMY MDVMV MLIML MLTMT MHLMH MRTMR MUSMU MEXMX FSMFM MDAMD MCOMC MNGMN MNEME MARMA MOZMZ MMRMM NAMNA NRUNR NPLNP NLDNL NZLNZ NICNI NERNE NGANG MKDMK NORNO OMNOM PAKPK PLWPW PANPA PNGPG PRYPY PERPE PHLPH POLPL PRTPT QATQA ROURO RUSRU RWARW KNAKN LCALC VCTVC WSMWS SMRSM STPST SAUSA SENSN SRBRS SYCSC SLESL SGPSG SVKSK SVNSI SLBSB SOMSO ZAFZA SSDSS ESPES LKALK SDNSD SURSR SWESE CHECH SYRSY TJKTJ TZATZ THATH TLSTL TGOTG TONTO TTOTT TUNTN TURTR TKMTM TUVTV UGAUG UKRUA AREAE GBRGB USAUS URYUY UZBUZ VUTVU VENVE VNMVN YEMYE ZMBZM ZWEZW PSEPS VATVA XKXXK TWNTW HKGHK MACMO'
    .split(' ')
    .map((pair) => [pair.slice(0, 3), pair.slice(3)] as const),
);

/**
 * A participant as an officer reads it: the country's name in the officer's language for a state
 * ("FRA" → "France", "فرنسا"), the organisation's id as it is for others (`org:UN-POE`).
 */
export function participantName(participantId: string): string {
  const alpha2 = ALPHA2.get(participantId);
  if (!alpha2) return participantId;
  try {
    return new Intl.DisplayNames(language, { type: 'region' }).of(alpha2) ?? participantId;
  } catch {
    return participantId;
  }
}

/** A language's own name ("العربية", "français"), for the language picker. */
export function languageName(code: Language): string {
  return new Intl.DisplayNames(code, { type: 'language' }).of(code) ?? code;
}

/**
 * The language the console opens in for a signed-in officer: the one kept on the node for the
 * officer (`WhoAmI`'s `language`, set with `SetMyLanguage`) when there is one, else this browser's
 * choice ({@link preferredLanguage}).
 */
export function officerLanguage(officer: { readonly id: string; readonly language: string } | undefined): Language {
  return officer && isLanguage(officer.language) ? officer.language : preferredLanguage(officer?.id ?? '');
}

/** The ISO 3166-1 alpha-3 codes whose country names {@link participantName} knows (for country pickers). */
export function countryCodes(): string[] {
  return [...ALPHA2.keys()];
}
