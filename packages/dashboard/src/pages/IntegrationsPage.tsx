import { IntegrationSettings } from '../components/integrations/IntegrationSettings.tsx';

export function IntegrationsPage() {
  return <IntegrationSettings />;
}
