import type { IntegrationDefinition, ServiceDeps } from '../../common/integration-contract.ts';

/** What the API needs from the outside world; every router factory receives it. */
export type ApiDeps = ServiceDeps & {
  /** Built dashboard files served with SPA fallback (default packages/dashboard/dist). */
  dashboardDir?: string;
  /** The integration modules to serve (default: the product's list, packages/integrations); tests may add one. */
  integrations?: readonly IntegrationDefinition[];
};
