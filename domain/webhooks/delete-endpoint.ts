import type { Database } from '@switchboard/database';
import { deleteIntegration } from '../integrations/delete-integration.ts';
import type { Scope } from '../scope.ts';
import { loadEndpointRow } from './endpoint-record.ts';

/**
 * Deletes the endpoint with its deliveries, attempts and events (cascade). Messages stay: other endpoints may
 * share them. A delivery already in flight may still arrive: its attempt cannot be recalled.
 */
export async function deleteEndpoint(db: Database, scope: Scope, endpointId: string): Promise<void> {
  await loadEndpointRow(db, scope, endpointId);
  await deleteIntegration(db, scope, endpointId);
}
