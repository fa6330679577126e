import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

/*
 * The repository speaks for itself: every document a file cites is in the repository, every
 * section it cites by heading exists there, every link in the docs resolves, and the README
 * stays short and links every docs page.
 */

const ROOT = resolve(__dirname, '../..');

/** Tracked (and new, not ignored) text files, as the next commit would have them. */
function repositoryFiles(): string[] {
  const list = (args: string[]): string[] => execFileSync('git', args, { cwd: ROOT, encoding: 'utf8' }).split('\n').filter(Boolean);
  const files = new Set([...list(['ls-files']), ...list(['ls-files', '--others', '--exclude-standard'])]);
  return [...files].filter((f) => existsSync(join(ROOT, f)) && !/\.(png|jpg|ico|lock)$/.test(f) && f !== 'package-lock.json');
}

/** Files the tools write (git-ignored), named where their output is described. */
const GENERATED = new Set(['latest.md']);

const read = (file: string): string => readFileSync(join(ROOT, file), 'utf8');

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces to dashes. */
function slug(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N} _-]/gu, '')
    .replace(/ /g, '-');
}

function headingsOf(file: string): string[] {
  return read(file)
    .split('\n')
    .filter((line) => /^#{1,6} /.test(line))
    .map((line) => line.replace(/^#+ /, '').trim());
}

/** A cited `.md` path, resolved from the citing file's folder or, failing that, the repository root. */
function resolveDoc(from: string, cited: string): string | null {
  for (const base of [dirname(from), '.']) {
    const candidate = join(base, cited);
    if (existsSync(join(ROOT, candidate)) && statSync(join(ROOT, candidate)).isFile()) return candidate;
  }
  return null;
}

describe('citations', () => {
  const files = repositoryFiles();

  it('every cited .md document exists in the repository', () => {
    const missing: string[] = [];
    for (const file of files) {
      const text = read(file);
      // A path ending in .md that is not part of a URL or a longer name.
      for (const match of text.matchAll(/(?<![\w/.:-])((?:\.{1,2}\/)?[\w.-]+(?:\/[\w.-]+)*\.md)\b/g)) {
        if (resolveDoc(file, match[1]) === null && !GENERATED.has(match[1])) missing.push(`${file}: ${match[1]}`);
      }
    }
    expect(missing).toEqual([]);
  });

  it('every section cited as <file>.md "Heading" exists in that file', () => {
    const missing: string[] = [];
    for (const file of files) {
      const text = read(file).replace(/\n\s*(?:\*|\/\/|#)\s*/g, ' ');
      for (const match of text.matchAll(/([\w./-]+\.md) "([^"]+)"(?:, "([^"]+)")?/g)) {
        const doc = resolveDoc(file, match[1]);
        if (doc === null) continue; // reported above
        for (const heading of [match[2], match[3]].filter((h): h is string => h !== undefined)) {
          if (!headingsOf(doc).includes(heading)) missing.push(`${file}: ${match[1]} "${heading}"`);
        }
      }
    }
    expect(missing).toEqual([]);
  });

  it('nothing cites sections with a section sign or documents kept outside the repository', () => {
    const sectionSign = '\u00a7';
    const found = files.flatMap((file) =>
      read(file)
        .split('\n')
        .map((line, i) => ({ line, where: `${file}:${i + 1}` }))
        .filter(({ line }) => line.includes(sectionSign) || /\b(CONTRACT|DESIGN|MEASUREMENTS)\.md\b/.test(line))
        .map(({ where, line }) => `${where}: ${line.trim()}`),
    );
    expect(found).toEqual([]);
  });
});

describe('docs', () => {
  const markdown = repositoryFiles().filter((f) => f.endsWith('.md') && !f.startsWith('node_modules/'));

  it('every relative link and anchor in the markdown files resolves', () => {
    const broken: string[] = [];
    for (const file of markdown) {
      const text = read(file).replace(/```[\s\S]*?```/g, '');
      for (const match of text.matchAll(/\]\(([^)\s]+)\)/g)) {
        const target = match[1];
        if (/^[a-z]+:/i.test(target)) continue;
        const [path, anchor] = target.split('#');
        const resolved = path === '' ? file : join(dirname(file), path);
        if (!existsSync(join(ROOT, resolved))) {
          broken.push(`${file}: ${target} (no such file)`);
          continue;
        }
        if (anchor !== undefined && resolved.endsWith('.md') && !headingsOf(resolved).map(slug).includes(anchor)) {
          broken.push(`${file}: ${target} (no such heading)`);
        }
      }
    }
    expect(broken).toEqual([]);
  });

  it('the README stays under 12 KB and links every page of docs/', () => {
    const readme = read('README.md');
    expect(Buffer.byteLength(readme)).toBeLessThan(12 * 1024);
    const pages = markdown.filter((f) => f.startsWith('docs/'));
    expect(pages.length).toBeGreaterThanOrEqual(8);
    expect(pages.filter((page) => !readme.includes(`](${page})`) && !readme.includes(`](${page}#`))).toEqual([]);
  });
});
