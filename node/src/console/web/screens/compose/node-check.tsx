import { Likelihood, type Reason, RecordKind, type RequestCheck } from '@tracenet/proto/browser';
import { currentLanguage, formatNumber, participantName, t } from '../../i18n.js';

/** The short name of an enum value (`LIKELIHOOD_LIKELY` → `likely`), 'unknown' for one the console does not know. */
function short(names: Record<number, string>, value: number, prefix: string): string {
  const name = names[value];
  if (!name || name.endsWith('_UNSPECIFIED') || name === 'UNRECOGNIZED') return 'unknown';
  return name.slice(prefix.length).toLowerCase();
}

const likelihoodKey = (value: Likelihood) => short(Likelihood, value, 'LIKELIHOOD_');
const recordKindKey = (value: RecordKind) => short(RecordKind, value, 'RECORD_KIND_');

/** The items of the node's completeness check the catalogues word (docs/protocol.md 17.1). */
const ITEMS = new Set([
  'control_serial',
  'manufacturer',
  'model',
  'calibre',
  'country_of_manufacture',
  'import_marks',
  'photos',
  'serial_obliterated',
]);

/** An item of the node's check in the officer's words; an item this console does not know, as the node names it. */
export function itemText(item: string): string {
  return ITEMS.has(item) ? t(`compose.item.${item}`) : item;
}

const KIND_WORDS = new Set(['manufacture', 'import', 'export', 'transfer']);

/**
 * A value of a reason as its wording takes it: a kind of record in words ("import records"), a
 * number for digits (plurals, the language's digits), a country's name for a participant id, else
 * the text as it is.
 */
function reasonValue(name: string, value: string): string | number {
  if (name === 'kind' && KIND_WORDS.has(value)) return t(`compose.recordKind.${value}`);
  if (/^\d{1,9}$/.test(value)) return Number(value);
  if (/^[A-Z]{3}$/.test(value) || value.startsWith('org:')) return participantName(value);
  return value;
}

/**
 * One reason of the node's estimate in the officer's language: its code worded by the catalogue
 * with its values as the message's arguments (docs/protocol.md 17.2); the node's English text for
 * a code this console does not know, or whose values do not fit the wording.
 */
function reasonText(reason: Reason): { text: string; english: boolean } {
  if (/^[a-z][a-z0-9_]{0,63}$/.test(reason.code)) {
    const values: Record<string, string | number> = {};
    for (const [name, value] of Object.entries(reason.values)) values[name] = reasonValue(name, value);
    try {
      const key = `compose.reason.${reason.code}`;
      const text = t(key, values);
      if (text !== key) return { text, english: false };
    } catch {
      // a value the wording needs is missing: the node's own words below
    }
  }
  return { text: reason.text || reason.code, english: true };
}

function Reasons({ reasons }: { reasons: readonly Reason[] }) {
  if (reasons.length === 0) return null;
  return (
    <ul class="check-reasons">
      {reasons.map((reason, i) => {
        const { text, english } = reasonText(reason);
        return (
          // biome-ignore lint/suspicious/noArrayIndexKey: reasons have no id but their place
          <li key={i} lang={english && currentLanguage() !== 'en' ? 'en' : undefined} dir="auto">
            {text}
          </li>
        );
      })}
    </ul>
  );
}

/**
 * The node's check of a request (Cases/CheckRequest, or Case.check recorded with it): the
 * completeness score and the items missing, heaviest first, and the traceability estimate —
 * whether records are likely to exist and where along the line of supply to ask first, with the
 * node's reasons. `goTo` makes each missing item a button to its field (the compose form).
 */
export function CheckView(props: {
  check: RequestCheck;
  id: string;
  /** The level of its headings: 3 under a screen's section, 4 under a panel's own heading of level 3. */
  level: 3 | 4;
  goTo?: ((item: string) => void) | undefined;
  /** A word beside a missing item, by item (the officer said the weapon has no import marks). */
  notes?: Readonly<Record<string, string>>;
}) {
  const { check, id } = props;
  const H = props.level === 4 ? 'h4' : 'h3';
  const score = check.completeness?.score ?? 0;
  const missing = check.completeness?.missing ?? [];
  const traceability = check.traceability;
  const likelihood = likelihoodKey(traceability?.likelihood ?? Likelihood.LIKELIHOOD_UNSPECIFIED);
  return (
    <div class="request-check">
      <p class="check-score">
        <span id={`${id}-score`}>
          {t('compose.nodeCheck.score', { shown: formatNumber(score), total: formatNumber(100) })}
        </span>{' '}
        <meter aria-labelledby={`${id}-score`} min={0} max={100} low={50} high={80} optimum={100} value={score} />
      </p>
      {missing.length === 0 ? (
        <p>{t('compose.nodeCheck.nothingMissing')}</p>
      ) : (
        <>
          <H>{t('compose.nodeCheck.missingTitle')}</H>
          <ul class="check-missing">
            {missing.map((m) => (
              <li key={m.item}>
                {props.goTo ? (
                  <button type="button" class="compose-link" onClick={() => props.goTo?.(m.item)}>
                    {itemText(m.item)}
                  </button>
                ) : (
                  itemText(m.item)
                )}{' '}
                <span class="muted">
                  {t('compose.nodeCheck.points', { count: m.weight, shown: formatNumber(m.weight) })}
                </span>
                {props.notes?.[m.item] && <span class="hint"> {props.notes[m.item]}</span>}
              </li>
            ))}
          </ul>
        </>
      )}
      <H>{t('compose.nodeCheck.traceabilityTitle')}</H>
      <p>
        <span class={`badge likelihood-${likelihood}`}>{t(`compose.likelihood.${likelihood}`)}</span>
        {check.recipient !== '' && (
          <span class="muted">
            {' '}
            {t('compose.nodeCheck.forRecipient', { recipient: participantName(check.recipient) })}
          </span>
        )}
      </p>
      <Reasons reasons={traceability?.reasons ?? []} />
      {(traceability?.askFirst.length ?? 0) > 0 && (
        <>
          <H>{t('compose.nodeCheck.askFirstTitle')}</H>
          <ol class="check-ask-first">
            {traceability?.askFirst.map((ask) => (
              <li key={`${ask.participant}/${ask.recordKind}`}>
                <strong>{participantName(ask.participant)}</strong>
                {' — '}
                {t(`compose.recordKind.${recordKindKey(ask.recordKind)}`)}{' '}
                <span class={`badge likelihood-${likelihoodKey(ask.likelihood)}`}>
                  {t(`compose.likelihood.${likelihoodKey(ask.likelihood)}`)}
                </span>
                <Reasons reasons={ask.reasons} />
              </li>
            ))}
          </ol>
        </>
      )}
    </div>
  );
}
