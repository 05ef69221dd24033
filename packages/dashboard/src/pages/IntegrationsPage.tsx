import { IntegrationHealthMonitor } from '../components/integrations/IntegrationHealthMonitor.tsx';
import { IntegrationSettings } from '../components/integrations/IntegrationSettings.tsx';
import { usePageTitle } from '../usePageTitle.ts';

export function IntegrationsPage() {
  usePageTitle('Integrations');
  return (
    <>
      <IntegrationSettings />
      <IntegrationHealthMonitor />
    </>
  );
}
