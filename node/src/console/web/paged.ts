import { useEffect, useState } from 'preact/hooks';

/** One page of a listing and the cursor of the next ('' on the last page). */
export interface Page<T> {
  readonly items: readonly T[];
  readonly next: string;
}

/** A paged listing as loaded so far: its items, whether more follow, and what failed. */
export interface Paged<T> {
  readonly items: readonly T[];
  readonly next: string;
  readonly loading: boolean;
  readonly error: unknown;
  /** Loads the next page and appends it. */
  more(): void;
  /** Loads the first page again (after a decision or a live event). */
  reload(): void;
}

/**
 * Loads the first page of `load` when `deps` change, the next one on `more()`; `reload()` starts
 * over, keeping what is shown until the new page arrives (no flicker on live updates).
 */
export function usePaged<T>(load: (cursor: string) => Promise<Page<T>>, deps: readonly unknown[]): Paged<T> {
  const [items, setItems] = useState<readonly T[]>([]);
  const [next, setNext] = useState('');
  const [loading, setLoading] = useState(true);
  const [error, setError] = useState<unknown>(undefined);
  const [generation, setGeneration] = useState(0);
  const [cursor, setCursor] = useState('');
  useEffect(() => {
    let current = true;
    setLoading(true);
    load(cursor).then(
      (page) => {
        if (!current) return;
        setItems((before) => (cursor === '' ? page.items : [...before, ...page.items]));
        setNext(page.next);
        setError(undefined);
        setLoading(false);
      },
      (caught: unknown) => {
        if (!current) return;
        setError(caught);
        setLoading(false);
      },
    );
    return () => {
      current = false;
    };
    // biome-ignore lint: the caller lists what `load` depends on
  }, [...deps, generation, cursor]);
  // New filters start from the first page.
  // biome-ignore lint: reset on the caller's dependencies only
  useEffect(() => setCursor(''), deps);
  return {
    items,
    next,
    loading,
    error,
    more: () => setCursor(next),
    reload: () => {
      setCursor('');
      setGeneration((g) => g + 1);
    },
  };
}
