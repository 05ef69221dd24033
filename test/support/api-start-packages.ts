// Builds the API's app the way api/server.ts does (every integration's server part loaded, every router made) and
// prints, as JSON, the npm packages that got loaded. api/start-footprint.test.ts runs it in a process of its own.
// The hook is registered before anything else is imported, so every import of the app goes through it.
import { registerHooks } from 'node:module';

const packages = new Set<string>();
registerHooks({
  resolve(specifier, context, nextResolve) {
    const resolved = nextResolve(specifier, context);
    const name = /\/node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(resolved.url)?.[1];
    if (name && !name.startsWith('@switchboard/')) packages.add(name);
    return resolved;
  },
});

await import('./test-env.ts');
const { startTestApi } = await import('./api.ts');
const api = await startTestApi();
await api.close();
process.stdout.write(JSON.stringify([...packages].sort()));
process.exit(0);
