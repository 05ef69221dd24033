// What the API and the worker of one process share for files: the opened stores and the intake, built once per
// process from the module's settings (a test app with other settings builds its own).
import type { ServiceDeps } from '../../common/integration-contract.ts';
import { fileSettings } from '../../packages/integrations/files/settings.ts';
import { AttachmentIntake } from './intake.ts';
import { StoreDirectory } from './stores.ts';

export type FilesRuntime = {
  stores: StoreDirectory;
  intake: AttachmentIntake;
  settings: ReturnType<typeof fileSettings.of>;
};

const runtimes = new WeakMap<object, FilesRuntime>();

export function filesRuntime(deps: Pick<ServiceDeps, 'db' | 'config'>): FilesRuntime {
  let runtime = runtimes.get(deps.config);
  if (!runtime) {
    const settings = fileSettings.of(deps.config);
    const stores = new StoreDirectory({
      db: deps.db,
      credentialKeys: deps.config.credentialKeys,
      defaultStore: settings.defaultStore,
      allowCidrs: settings.allowCidrs,
    });
    const intake = new AttachmentIntake({
      db: deps.db,
      credentialKeys: deps.config.credentialKeys,
      stores,
      defaultLimits: settings.limits,
      maxImagePixels: settings.maxImagePixels,
      ...(settings.scanOnUpload ? { scanOnUpload: settings.clamd } : {}),
    });
    runtime = { stores, intake, settings };
    runtimes.set(deps.config, runtime);
  }
  return runtime;
}
