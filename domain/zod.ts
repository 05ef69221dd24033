// zod for the domain's schemas, extended so the API can register them in its OpenAPI document by name.
// zod 4 gives each schema its methods when the schema is built, so the extension has to run before any
// domain schema exists; importing z from here guarantees that whatever module happens to load first.
import { extendZodWithOpenApi } from '@asteasolutions/zod-to-openapi';
import { z } from 'zod';

extendZodWithOpenApi(z);

export { z };
