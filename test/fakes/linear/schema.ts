// Linear's published schema, read from the shared folder beside the repository (CI puts a copy of shared/ next
// to the clone, so the same relative path holds there). Built once per process: it takes about half a second.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { buildSchema, type GraphQLSchema } from 'graphql';

const repoRoot = path.resolve(import.meta.dirname, '..', '..', '..');
export const LINEAR_SCHEMA_PATH = path.resolve(repoRoot, '..', 'shared', 'linear', 'schema.graphql');

let cached: GraphQLSchema | undefined;

export function linearSchema(): GraphQLSchema {
  cached ??= buildSchema(readFileSync(LINEAR_SCHEMA_PATH, 'utf8'));
  return cached;
}
