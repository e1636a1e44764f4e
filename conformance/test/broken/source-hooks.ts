/**
 * Module loader hooks (node:module `register`) that edit the reference node's built files as they
 * load: the broken variants that break a rule inside a function no monkeypatch can reach (a domain
 * label, a comparison) use them through {@link ./patch-source.ts}. Every edit must find its text,
 * or loading fails: a variant never runs unbroken by mistake.
 */

/** One file of node/dist and the exact texts to replace in it. */
export interface SourceEdit {
  /** Path below node/dist, e.g. `envelope/receipt.js`. */
  readonly file: string;
  readonly replace: ReadonlyArray<readonly [string, string]>;
}

let edits: readonly SourceEdit[] = [];

export function initialize(data: { edits: readonly SourceEdit[] }): void {
  edits = data.edits;
}

type Loaded = { format?: string | null; source?: string | ArrayBuffer | Uint8Array | null; shortCircuit?: boolean };

export async function load(
  url: string,
  context: object,
  nextLoad: (url: string, context: object) => Promise<Loaded>,
): Promise<Loaded> {
  const loaded = await nextLoad(url, context);
  const edit = edits.find((e) => url.endsWith(`/node/dist/${e.file}`));
  if (!edit || loaded.source === undefined || loaded.source === null) return loaded;
  let source =
    typeof loaded.source === 'string' ? loaded.source : Buffer.from(loaded.source as Uint8Array).toString('utf8');
  for (const [from, to] of edit.replace) {
    if (!source.includes(from))
      throw new Error(`broken variant: ${edit.file} no longer contains ${JSON.stringify(from)}; update the variant`);
    source = source.replace(from, () => to);
  }
  return { ...loaded, source };
}
