import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { IntlMessageFormat } from 'intl-messageformat';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const WEB = fileURLToPath(new URL('../../src/console/web/', import.meta.url));
const LANGUAGES = ['ar', 'zh', 'en', 'fr', 'ru', 'es'];

function sources(dir = WEB): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === 'messages' ? [] : sources(path);
    return /\.tsx?$/.test(entry.name) ? [path] : [];
  });
}

function catalogue(language: string): Map<string, { file: string; text: string }> {
  const folder = join(WEB, 'messages', language);
  const entries = new Map<string, { file: string; text: string }>();
  for (const file of readdirSync(folder).filter((f) => f.endsWith('.json'))) {
    for (const [key, text] of Object.entries(
      JSON.parse(readFileSync(join(folder, file), 'utf8')) as Record<string, string>,
    )) {
      expect(entries.has(key), `${language}: ${key} is in two files`).toBe(false);
      entries.set(key, { file, text });
    }
  }
  return entries;
}

/** The argument names an ICU message uses ({count}, {node}, plural and select arguments). */
function argumentsOf(text: string, language: string): string[] {
  const names = new Set<string>();
  const walk = (nodes: unknown[]) => {
    for (const node of nodes as Array<{ value?: unknown; options?: Record<string, { value: unknown[] }> }>) {
      if (typeof node.value === 'string' && 'type' in node && (node as { type: number }).type !== 0)
        names.add(node.value);
      for (const option of Object.values(node.options ?? {})) walk(option.value);
    }
  };
  walk(new IntlMessageFormat(text, language).getAst());
  return [...names].sort();
}

/** The source without comments, so that words in comments are not taken for text on screen. */
function code(path: string): string {
  return readFileSync(path, 'utf8')
    .replace(/\/\*[\s\S]*?\*\//g, '')
    .replace(/(^|[^:'"`])\/\/.*$/gm, '$1');
}

/** Attributes a browser shows or reads out. */
/** Operators whose right-hand side is what a child expression shows: `ok && 'Saved'`, `name ?? 'None'`, `'A' + b`. */
const JOINING = [
  ts.SyntaxKind.AmpersandAmpersandToken,
  ts.SyntaxKind.BarBarToken,
  ts.SyntaxKind.QuestionQuestionToken,
  ts.SyntaxKind.PlusToken,
];
const SHOWN_ATTRIBUTES = new Set(['placeholder', 'title', 'aria-label', 'aria-description', 'alt', 'label']);

/**
 * The text a TSX file writes for the officer itself: JSX text, string literals among an element's
 * children (also in the branches of `?:`, after `&&`, `||`, `??`, either side of `+`) and in the attributes a browser shows.
 * Strings passed to a call (`t('inbox.title')`) are keys, not text.
 */
function literalText(path: string): string[] {
  const file = ts.createSourceFile(path, readFileSync(path, 'utf8'), ts.ScriptTarget.Latest, true, ts.ScriptKind.TSX);
  const found: string[] = [];
  const hasWords = (text: string) => /\p{L}/u.test(text);
  const shown = (node: ts.Node): void => {
    if (ts.isStringLiteral(node) || ts.isNoSubstitutionTemplateLiteral(node) || ts.isTemplateExpression(node)) {
      if (hasWords(node.getText(file).replace(/\$\{[^}]*\}/g, ''))) found.push(node.getText(file));
    } else if (ts.isParenthesizedExpression(node)) shown(node.expression);
    else if (ts.isConditionalExpression(node)) {
      shown(node.whenTrue);
      shown(node.whenFalse);
    } else if (ts.isBinaryExpression(node)) {
      const operator = node.operatorToken.kind;
      if (operator === ts.SyntaxKind.PlusToken) shown(node.left);
      if (JOINING.includes(operator)) shown(node.right);
    }
  };
  const visit = (node: ts.Node): void => {
    if (ts.isJsxText(node)) {
      const words = node.text.trim();
      if (hasWords(words)) found.push(words.replace(/\s+/g, ' '));
    } else if (ts.isJsxExpression(node) && node.expression && !ts.isJsxAttribute(node.parent)) {
      shown(node.expression);
    } else if (ts.isJsxAttribute(node) && SHOWN_ATTRIBUTES.has(node.name.getText(file)) && node.initializer) {
      const value = node.initializer;
      if (ts.isStringLiteral(value)) {
        if (hasWords(value.text)) found.push(value.text);
      } else if (ts.isJsxExpression(value) && value.expression) shown(value.expression);
    }
    ts.forEachChild(node, visit);
  };
  visit(file);
  return found;
}

describe('the console catalogues', () => {
  const english = catalogue('en');

  it('has every key of English in each of the six UN languages, and nothing else', () => {
    for (const language of LANGUAGES) {
      const entries = catalogue(language);
      const missing = [...english.keys()].filter((k) => !entries.has(k));
      const extra = [...entries.keys()].filter((k) => !english.has(k));
      expect({ language, missing, extra }).toEqual({ language, missing: [], extra: [] });
      for (const [key, { file, text }] of entries) {
        expect(text.trim(), `${language}/${file}: ${key} is empty`).not.toBe('');
        expect(english.get(key)?.file, `${language}: ${key} is in ${file}, English has it elsewhere`).toBe(file);
      }
    }
  });

  it('has messages that parse as ICU and use the same arguments as English', () => {
    for (const language of LANGUAGES) {
      for (const [key, { text }] of catalogue(language)) {
        const english_ = english.get(key)?.text ?? '';
        expect(argumentsOf(text, language), `${language}: ${key}`).toEqual(argumentsOf(english_, 'en'));
      }
    }
  });

  it('has a message for every key the code asks for, and no key the code never asks for', () => {
    const text = sources().map(code).join('\n');
    const asked = [...text.matchAll(/\bt\(\s*'([^']+)'/g)].map((m) => m[1] ?? '');
    expect(asked.filter((key) => !english.has(key))).toEqual([]);
    // A key is used when the code names it, or builds it from its prefix (`role.${r}`).
    const dynamicPrefixes = [...text.matchAll(/`([a-zA-Z.]+\.)\$\{/g)].map((m) => m[1] ?? '');
    const unused = [...english.keys()].filter(
      (key) => !text.includes(`'${key}'`) && !dynamicPrefixes.some((prefix) => key.startsWith(prefix)),
    );
    expect(unused).toEqual([]);
  });

  it('leaves no text for the officer in the code: every word on screen comes from a catalogue', () => {
    const left: string[] = [];
    for (const path of sources().filter((p) => p.endsWith('.tsx'))) {
      for (const words of literalText(path)) left.push(`${path.slice(WEB.length)}: ${words}`);
    }
    expect(left).toEqual([]);
  });

  it('finds text written into a screen, however it is written', () => {
    const mutant = join(tmpdir(), 'tracenet-catalogue-mutant.tsx');
    writeFileSync(
      mutant,
      `export const A = (p: { n: number }) => (
        <div title={\`Title text\`}>
          <p>Hello {p.n}</p>
          <p>{'Literal string'}</p>
          <p>Note (see below)</p>
          <p>{p.n > 1 ? 'Many cases' : t('case.one')}</p>
          <input aria-label={'Search'} placeholder="Type" />
          <p>
            Plain text
          </p>
          <p>{p.n} left</p>
          <p>{p.n === 1 && 'Saved'}{'Total ' + p.n}{p.n === 2 ? <b>{t('case.two')}</b> : null}</p>
          <p>{t('case.key')}{' '}{'—'}</p>
        </div>
      );`,
    );
    expect(literalText(mutant).sort()).toEqual(
      [
        '`Title text`',
        'Hello',
        "'Literal string'",
        'Note (see below)',
        "'Many cases'",
        "'Search'",
        'Type',
        'Plain text',
        'left',
        "'Saved'",
        "'Total '",
      ].sort(),
    );
  });
});
