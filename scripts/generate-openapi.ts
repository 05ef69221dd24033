// Writes specification/openapi.yaml from the routes (api/openapi/generate.ts), and the dashboard's API types from
// it. A test fails when either is stale.
import { writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { generateDashboardApiTypes, generateOpenApiYaml } from '../api/openapi/generate.ts';

const target = fileURLToPath(new URL('../specification/openapi.yaml', import.meta.url));
const yamlDocument = await generateOpenApiYaml();
await writeFile(target, yamlDocument);
console.log(`wrote ${target}`);
const types = fileURLToPath(new URL('../packages/dashboard/src/openapi-types.ts', import.meta.url));
await writeFile(types, await generateDashboardApiTypes(yamlDocument));
console.log(`wrote ${types}`);
