import { RecordsDefinition } from '@tracenet/proto/browser';
import { useEffect, useState } from 'preact/hooks';
import { rpc } from '../../api.js';
import { countryCodes, formatNumber, participantName, t } from '../../i18n.js';

/** A suggestion of the alias table: the canonical name and its other spellings. */
interface Suggestion {
  readonly name: string;
  readonly aliases: readonly string[];
}

/** Control characters never go to the node (it would refuse them): they are not part of a marking. */
const CONTROL = /\p{Cc}/gu;

/**
 * A text input for a manufacturer (or, with `calibres`, a calibre) whose `<datalist>` offers the
 * canonical names of the node's alias table that match what is typed (Records.SearchAliases),
 * with their other spellings; the number found is announced politely.
 */
export function AliasInput(props: {
  id: string;
  describedBy: string | undefined;
  value: string;
  calibres?: boolean;
  maxLength: number;
  onInput: (value: string) => void;
}) {
  const [suggestions, setSuggestions] = useState<readonly Suggestion[]>([]);
  const prefix = props.value.replace(CONTROL, '').trim().slice(0, 100);
  useEffect(() => {
    let current = true;
    const timer = setTimeout(() => {
      rpc(RecordsDefinition, 'searchAliases', { calibres: props.calibres ?? false, prefix, limit: 10 }).then(
        (response) => current && setSuggestions(response.suggestions),
        // Suggestions are a help: without them (no table, a role that may not read records) the field still works.
        () => current && setSuggestions([]),
      );
    }, 200);
    return () => {
      current = false;
      clearTimeout(timer);
    };
  }, [prefix, props.calibres]);
  const listId = `${props.id}-suggestions`;
  const exact = suggestions.some((s) => s.name === props.value);
  return (
    <>
      <input
        id={props.id}
        aria-describedby={props.describedBy}
        list={listId}
        autoComplete="off"
        maxLength={props.maxLength}
        value={props.value}
        onInput={(event) => props.onInput((event.target as HTMLInputElement).value)}
      />
      <datalist id={listId}>
        {suggestions.map((s) => (
          <option key={s.name} value={s.name} label={s.aliases.join(', ')} />
        ))}
      </datalist>
      <p class="hint compose-suggestions" role="status">
        {prefix !== '' && suggestions.length > 0 && !exact
          ? t('compose.suggestions', {
              count: suggestions.length,
              shown: formatNumber(suggestions.length),
              names: suggestions
                .slice(0, 3)
                .map((s) => s.name)
                .join(', '),
            })
          : ''}
      </p>
    </>
  );
}

/** The datalist of every country by its name in the officer's language, for the country inputs (`list={COUNTRY_LIST}`). */
export const COUNTRY_LIST = 'compose-countries';

export function CountryList() {
  const codes = countryCodes();
  return (
    <datalist id={COUNTRY_LIST}>
      {codes.map((code) => (
        <option key={code} value={code} label={participantName(code)} />
      ))}
    </datalist>
  );
}

/** The country name of a three-letter code as typed, for the officer to check; '' when it names none. */
export function countryHint(code: string): string {
  const upper = code.trim().toUpperCase();
  const name = /^[A-Z]{3}$/.test(upper) ? participantName(upper) : '';
  return name !== '' && name !== upper ? name : '';
}
