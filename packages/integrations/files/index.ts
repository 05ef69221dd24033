// File attachments, declared once (specification/files.md): the upload pipeline (scan, encrypt, store, thumbnail)
// and the organisation's storage. An integration of type `storage` is where an organisation keeps its files (its
// own S3 bucket or Azure container, credentials sealed); without one, the deployment's default store is used.
import type { IntegrationDefinition } from '../../../common/integration-contract.ts';
import {
  organizationStorageConfigSchema,
  organizationStorageCredentialsSchema,
} from '../../../domain/files/storage-config.ts';
import { fileSettings } from './settings.ts';

export const filesIntegration: IntegrationDefinition = {
  type: 'storage',
  label: 'File storage',
  description:
    'Where attachments are kept: your own S3-compatible bucket or Azure Blob container (files are encrypted ' +
    'before they reach it). Without one, the deployment’s default store is used.',
  configSchema: organizationStorageConfigSchema,
  credentialsSchema: organizationStorageCredentialsSchema,
  dashboard: { setupComponent: 'GenericIntegrationForm' },
  settings: fileSettings,
  server: async () => (await import('./server.ts')).filesServer,
};
