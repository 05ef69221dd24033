// Writes the workflow bundle to the file named by its argument, and exits. worker/main.ts runs it as a child
// process: webpack and swc take a few hundred MB while bundling, which V8 keeps as resident memory for the life of
// the process that bundled; in a child, it is all given back when the child exits.
import { writeFile } from 'node:fs/promises';
import { bundleWorkflows } from './create-worker.ts';

const target = process.argv[2];
if (!target) throw new Error('usage: node worker/bundle-workflows.ts <output file>');
const { code } = await bundleWorkflows();
await writeFile(target, code);
