// Which setup component configures which integration type. The server's catalogue names each module's component
// (GET /api/integrations/catalogue); the component is found by that name among this folder's `*Setup.tsx` and
// `*Manager.tsx` files (and `<type>/index.tsx`), so an integration brings its wizard as a file here and edits nothing
// shared. A type whose component is not here gets the generic JSON form. (Not every .tsx of the folder: the settings
// page imports this module, and importing it back would be a cycle.)
import type { ComponentType } from 'react';
import type { Integration, IntegrationType } from '../../api.ts';
import { GenericIntegrationForm } from './GenericIntegrationForm.tsx';

export type IntegrationSetupProps = {
  integrationType: IntegrationType;
  /** The integration being edited; absent when adding a new one. */
  integration?: Integration;
  onSaved: (integration: Integration) => void;
  onCancel: () => void;
};

// Every export of every component file of this folder, by export name.
const components = new Map<string, ComponentType<IntegrationSetupProps>>();
for (const module of Object.values(
  import.meta.glob<Record<string, unknown>>(['./*Setup.tsx', './*Manager.tsx', './*/index.tsx'], { eager: true }),
)) {
  for (const [name, value] of Object.entries(module)) {
    if (typeof value === 'function') components.set(name, value as ComponentType<IntegrationSetupProps>);
  }
}

export function setupComponentFor(componentName: string | undefined): ComponentType<IntegrationSetupProps> {
  return (componentName && components.get(componentName)) || GenericIntegrationForm;
}
