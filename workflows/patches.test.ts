// The patch ledger (specification/patches.md) is how anyone learns when a patched() branch can go: every patch id
// in the workflow code has its row there, and every row names a patch the code still has.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const WORKFLOWS = fileURLToPath(new URL('./', import.meta.url));
const LEDGER = fileURLToPath(new URL('../specification/patches.md', import.meta.url));

/** Every `patched(…)` / `deprecatePatch(…)` call in the workflow code (tests aside), with its id when literal. */
function patchCalls(files: Array<{ file: string; source: string }>): Array<{ file: string; id: string | null }> {
  const calls: Array<{ file: string; id: string | null }> = [];
  for (const { file, source } of files) {
    for (const match of source.matchAll(/\b(?:patched|deprecatePatch)\(\s*([^)]*?)\s*\)/g)) {
      const literal = /^(['"`])([^'"`]+)\1$/.exec(match[1]!);
      calls.push({ file, id: literal ? literal[2]! : null });
    }
  }
  return calls;
}

/** The ids of the ledger's table: the first cell of each row, in backticks. */
function ledgerIds(markdown: string): string[] {
  return [...markdown.matchAll(/^\|\s*`([^`]+)`\s*\|/gm)].map((m) => m[1]!);
}

function workflowSources(): Array<{ file: string; source: string }> {
  return readdirSync(WORKFLOWS, { recursive: true, encoding: 'utf8' })
    .filter((file) => file.endsWith('.ts') && !file.endsWith('.test.ts'))
    .map((file) => ({ file: `workflows/${file}`, source: readFileSync(join(WORKFLOWS, file), 'utf8') }));
}

describe('patch ledger', () => {
  it('finds patch ids in code and in the ledger the way the check below reads them', () => {
    const calls = patchCalls([
      { file: 'a.ts', source: "if (patched('one')) x();\nconst two = patched( \"two\" );\ndeprecatePatch('three');" },
      { file: 'b.ts', source: 'if (patched(someId)) y();' },
    ]);
    assert.deepEqual(calls, [
      { file: 'a.ts', id: 'one' },
      { file: 'a.ts', id: 'two' },
      { file: 'a.ts', id: 'three' },
      { file: 'b.ts', id: null },
    ]);
    assert.deepEqual(ledgerIds('| id | file |\n| -- | -- |\n| `one` | `a.ts` |\n| `two` | x |\ntext `four`\n'), [
      'one',
      'two',
    ]);
  });

  it('lists every patch id of the workflow code, and only those', () => {
    const calls = patchCalls(workflowSources());
    assert.ok(calls.length > 0, 'the workflow code has patches (the scan reads the right folder)');
    assert.deepEqual(
      calls.filter((c) => c.id === null),
      [],
      'patch ids are string literals, so the ledger can name them',
    );
    const listed = new Set(ledgerIds(readFileSync(LEDGER, 'utf8')));
    const inCode = new Set(calls.map((c) => c.id!));
    assert.deepEqual(
      calls.filter((c) => !listed.has(c.id!)),
      [],
      'every patched() id has a row in specification/patches.md',
    );
    assert.deepEqual(
      [...listed].filter((id) => !inCode.has(id)),
      [],
      'every row of specification/patches.md names a patch the code still has',
    );
  });
});
