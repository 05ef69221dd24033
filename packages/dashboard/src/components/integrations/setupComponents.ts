// Which setup component configures which integration type. An integration with its own wizard
// (LinearIntegrationSetup, SlackIntegrationSetup, EmailIntegrationSetup, WebhookManager) registers it here;
// every other type gets the generic JSON form.
import type { ComponentType } from 'react';
import type { Integration, IntegrationType } from '../../api.ts';
import { GenericIntegrationForm } from './GenericIntegrationForm.tsx';
import { LinearIntegrationSetup } from './LinearIntegrationSetup.tsx';
import { WebhookManager } from './WebhookManager.tsx';

export type IntegrationSetupProps = {
  integrationType: IntegrationType;
  /** The integration being edited; absent when adding a new one. */
  integration?: Integration;
  onSaved: (integration: Integration) => void;
  onCancel: () => void;
};

const setupComponents: Partial<Record<IntegrationType, ComponentType<IntegrationSetupProps>>> = {
  linear: LinearIntegrationSetup,
  webhook: WebhookManager,
};

export function setupComponentFor(type: IntegrationType): ComponentType<IntegrationSetupProps> {
  return setupComponents[type] ?? GenericIntegrationForm;
}
