import { WebhookManager } from '../components/integrations/WebhookManager.tsx';
import { RetrySchedule } from '../components/webhooks/RetrySchedule.tsx';
import { canManageIntegrations, useMe } from '../session.tsx';
import { usePageTitle } from '../usePageTitle.ts';

export function WebhooksPage() {
  usePageTitle('Webhooks');
  const me = useMe();
  return (
    <>
      <WebhookManager />
      {canManageIntegrations(me) && <RetrySchedule />}
    </>
  );
}
