// Writes specification/openapi.yaml from the routes (api/openapi/generate.ts). A test fails when it is stale.
import { writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { generateOpenApiYaml } from '../api/openapi/generate.ts';

const target = fileURLToPath(new URL('../specification/openapi.yaml', import.meta.url));
await writeFile(target, await generateOpenApiYaml());
console.log(`wrote ${target}`);
