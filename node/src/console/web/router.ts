import { useEffect, useState } from 'preact/hooks';

/** A place in the console: `#/cases/c_12?tab=chain` → path ['cases', 'c_12'], query tab=chain. */
export interface Route {
  readonly path: readonly string[];
  readonly query: URLSearchParams;
}

function parse(hash: string): Route {
  const [path = '', query = ''] = hash.replace(/^#\/?/, '').split('?', 2);
  return { path: path.split('/').filter(Boolean).map(decodeURIComponent), query: new URLSearchParams(query) };
}

/** The route of the page now; renders again when it changes. */
export function useRoute(): Route {
  const [route, setRoute] = useState(() => parse(location.hash));
  useEffect(() => {
    const changed = () => setRoute(parse(location.hash));
    addEventListener('hashchange', changed);
    return () => removeEventListener('hashchange', changed);
  }, []);
  return route;
}

/** The href of a route: `href('cases', id)` → `#/cases/<id>`, with an optional query. */
export function href(...parts: Array<string | Record<string, string>>): string {
  const query = parts.find((p): p is Record<string, string> => typeof p === 'object');
  const path = parts
    .filter((p): p is string => typeof p === 'string')
    .map(encodeURIComponent)
    .join('/');
  const search = query ? new URLSearchParams(query).toString() : '';
  return `#/${path}${search ? `?${search}` : ''}`;
}

/** Goes to a route (as a link would). */
export function navigate(to: string): void {
  location.hash = to.replace(/^#/, '');
}
