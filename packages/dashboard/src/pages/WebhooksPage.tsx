import { WebhookManager } from '../components/integrations/WebhookManager.tsx';
import { usePageTitle } from '../usePageTitle.ts';

export function WebhooksPage() {
  usePageTitle('Webhooks');
  return <WebhookManager />;
}
