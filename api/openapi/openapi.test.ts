import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { startTestApi, type TestApi } from '../../test/support/api.ts';
import { toExpressPath } from '../http/route.ts';
import { buildOpenApiDocument } from './document.ts';
import { generateDashboardApiTypes, generateOpenApiYaml } from './generate.ts';

type Layer = {
  name: string;
  slash: boolean;
  route?: { path: string; methods: Record<string, boolean> };
  handle: { stack?: Layer[] };
};

/** Every route the Express app answers, as "METHOD /path" with Express path syntax. */
function expressRoutes(stack: Layer[]): string[] {
  const routes: string[] = [];
  for (const layer of stack) {
    if (layer.route) {
      for (const method of Object.keys(layer.route.methods)) routes.push(`${method.toUpperCase()} ${layer.route.path}`);
    } else if (layer.handle.stack) {
      const nested = expressRoutes(layer.handle.stack);
      // defineRoute paths are absolute, so routers carrying routes must be mounted at the root.
      if (nested.length) assert.ok(layer.slash, `a router with routes ${nested.join(', ')} is mounted under a prefix`);
      routes.push(...nested);
    }
  }
  return routes;
}

/** Served on purpose without an entry of their own: better-auth's catch-all and the dashboard's SPA fallback. */
const UNDOCUMENTED = new Set(['_ALL /api/auth/*splat', 'GET /{*splat}']);

describe('the OpenAPI document', () => {
  let api: TestApi;
  before(async () => {
    api = await startTestApi();
  });
  after(() => api.close());

  it('documents every route the app serves', () => {
    const document = buildOpenApiDocument();
    const documented = new Set(
      Object.entries(document.paths ?? {}).flatMap(([path, item]) =>
        Object.keys(item as object).map((method) => `${method.toUpperCase()} ${toExpressPath(path)}`),
      ),
    );
    const served = expressRoutes((api.app as unknown as { router: { stack: Layer[] } }).router.stack);
    assert.ok(served.includes('GET /api/me') && served.includes('POST /api/tickets'), 'the walk finds routes');
    const missing = served.filter((route) => !documented.has(route) && !UNDOCUMENTED.has(route));
    assert.deepEqual(missing, [], 'routes added without defineRoute are missing from the document');
  });

  it('is committed as specification/openapi.yaml, regenerated (npm run openapi) whenever a route changes', async () => {
    const committed = await readFile(new URL('../../specification/openapi.yaml', import.meta.url), 'utf8');
    assert.ok(
      committed === (await generateOpenApiYaml()),
      'specification/openapi.yaml is stale: run `npm run openapi`',
    );
  });

  it("is where the dashboard's API types come from (packages/dashboard/src/openapi-types.ts, regenerated with it)", async () => {
    const committed = await readFile(new URL('../../packages/dashboard/src/openapi-types.ts', import.meta.url), 'utf8');
    const document = await readFile(new URL('../../specification/openapi.yaml', import.meta.url), 'utf8');
    assert.ok(
      committed === (await generateDashboardApiTypes(document)),
      'packages/dashboard/src/openapi-types.ts is stale: run `npm run openapi`',
    );
  });
});
