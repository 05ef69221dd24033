// How the code is layered, checked on every run: contracts and shared code at the bottom import nothing above
// them, the domain does not depend on the web layer, and each shared enumeration is written down once.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { API_NODE_FLAGS, WORKER_NICENESS, WORKER_NODE_FLAGS } from '../worker/node-flags.ts';

const root = fileURLToPath(new URL('..', import.meta.url));

function sourceFiles(dir: string): string[] {
  return readdirSync(join(root, dir)).flatMap((name) => {
    const path = join(dir, name);
    if (name === 'node_modules' || name === 'dist') return [];
    if (statSync(join(root, path)).isDirectory()) return sourceFiles(path);
    return /\.tsx?$/.test(name) && !/\.test\.tsx?$/.test(name) ? [path] : [];
  });
}

/** The repository folders a file imports from (relative imports only, type-only ones included). */
function importedFolders(file: string): string[] {
  const text = readFileSync(join(root, file), 'utf8');
  const specifiers = [...text.matchAll(/(?:from|import)\s+'(\.{1,2}\/[^']+)'/g)].map((m) => m[1]!);
  return specifiers.map((s) => relative(root, resolve(join(root, file, '..'), s)));
}

function importsInto(files: string[], forbidden: string[]): string[] {
  return files.flatMap((file) =>
    importedFolders(file)
      .filter((target) => forbidden.some((f) => target === f || target.startsWith(`${f}/`)))
      .map((target) => `${file} → ${target}`),
  );
}

describe('the layering of the code', () => {
  it('common/ (contracts, config, crypto, clients) imports nothing from the layers above it', () => {
    const above = ['api', 'domain', 'activities', 'workflows', 'outbox', 'worker', 'packages/integrations', 'bench'];
    assert.deepEqual(importsInto(sourceFiles('common'), above), []);
  });

  it('the domain does not depend on the web layer (api/)', () => {
    assert.deepEqual(importsInto(sourceFiles('domain'), ['api']), []);
  });

  it('ticket statuses, priorities, channels, comment sources, actor types and roles are listed only in common/enums.ts', () => {
    const lists = [
      // As arrays or as union types.
      /'open'\s*[,|]\s*'pending'\s*[,|]\s*'on_hold'/,
      /'low'\s*[,|]\s*'normal'\s*[,|]\s*'high'\s*[,|]\s*'urgent'/,
      /'web'\s*[,|]\s*'email'\s*[,|]\s*'slack'\s*[,|]\s*'api'/,
      /'web'\s*[,|]\s*'email'\s*[,|]\s*'slack'\s*[,|]\s*'linear'\s*[,|]\s*'api'/,
      /'user'\s*[,|]\s*'api_key'\s*[,|]\s*'customer'/,
      /'admin'\s*[,|]\s*'agent'\s*[,|]\s*'viewer'/,
    ];
    const files = ['common', 'domain', 'api', 'activities', 'workflows', 'outbox', 'worker', 'packages']
      .flatMap(sourceFiles)
      .filter((f) => f !== 'common/enums.ts' && !f.endsWith('openapi-types.ts'));
    const copies = files.filter((f) => {
      const text = readFileSync(join(root, f), 'utf8');
      return lists.some((list) => list.test(text));
    });
    assert.deepEqual(copies, []);
  });

  it('the worker runs with the V8 flags and the CPU priority of worker/node-flags.ts wherever it is started', () => {
    const flags = WORKER_NODE_FLAGS.join(' ');
    const compose = readFileSync(join(root, 'docker-compose.yml'), 'utf8');
    const worker = compose.slice(compose.indexOf('\n  worker:\n'));
    const command = `command: [node, ${WORKER_NODE_FLAGS.join(', ')}, worker/main.ts]`;
    assert.ok(worker.includes(command), 'docker-compose.yml');
    // A container's weight against the API's default 1,024, as the niceness weighs against niceness 0 (≈ 1.25 per step).
    const shares = Number(/\n {4}cpu_shares: (\d+)/.exec(worker)?.[1]);
    assert.ok(Math.abs(Math.log2(1024 / shares) - Math.log2(1.25 ** WORKER_NICENESS)) <= 1, `cpu_shares: ${shares}`);
    const start = readFileSync(join(root, 'scripts/start.sh'), 'utf8');
    assert.ok(start.includes(`nice -n ${WORKER_NICENESS} node ${flags} "$ROOT/worker/main.ts"`), 'scripts/start.sh');
    const stack = readFileSync(join(root, 'bench/lib/stack.ts'), 'utf8');
    assert.ok(stack.includes("WORKER_NODE_FLAGS.join(' ')"), 'bench/lib/stack.ts');
    assert.ok(stack.includes('?? WORKER_NICENESS'), 'bench/lib/stack.ts');
    const processes = readFileSync(join(root, 'bench/lib/processes.ts'), 'utf8');
    assert.ok(processes.includes("['nice', ['-n', String(niceness)"), 'bench/lib/processes.ts applies it');
  });

  it('the API runs with the V8 flags of worker/node-flags.ts wherever it is started', () => {
    const compose = readFileSync(join(root, 'docker-compose.yml'), 'utf8');
    assert.ok(compose.includes(`command: [node, ${API_NODE_FLAGS.join(', ')}, api/server.ts]`), 'docker-compose.yml');
    const dockerfile = readFileSync(join(root, 'Dockerfile'), 'utf8');
    assert.ok(
      dockerfile.includes(`CMD ["node", ${API_NODE_FLAGS.map((f) => `"${f}"`).join(', ')}, "api/server.ts"]`),
      'Dockerfile',
    );
    const start = readFileSync(join(root, 'scripts/start.sh'), 'utf8');
    assert.ok(start.includes(`node ${API_NODE_FLAGS.join(' ')} "$ROOT/api/server.ts"`), 'scripts/start.sh');
    const stack = readFileSync(join(root, 'bench/lib/stack.ts'), 'utf8');
    assert.ok(stack.includes("API_NODE_FLAGS.join(' ')"), 'bench/lib/stack.ts');
  });
});
