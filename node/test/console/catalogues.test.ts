import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { IntlMessageFormat } from 'intl-messageformat';
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
      const source = code(path);
      for (const match of source.matchAll(/(?<!=)>([^<>{}]*)</g)) {
        const words = (match[1] ?? '').trim();
        if (/\p{L}/u.test(words) && !/=>|&&|\|\||[;()]/.test(words)) left.push(`${path.slice(WEB.length)}: ${words}`);
      }
      for (const match of source.matchAll(/\b(placeholder|title|aria-label|alt|label)="([^"]*)"/g))
        if (/\p{L}/u.test(match[2] ?? '')) left.push(`${path.slice(WEB.length)}: ${match[1]}="${match[2]}"`);
    }
    expect(left).toEqual([]);
  });
});
