// An integration module's own settings: the environment variables only it reads, read and checked once when a
// process starts, like the core's. The core config (common/config.ts) names no integration; packages/integrations
// composes it with every listed module's settings (loadServiceConfig), so a new integration with settings of its own
// edits no shared file. The composed config carries them by integration type, and a module reads its own back with
// its accessor (`linearSettings.of(config)`), typed, rather than through a field of the core config.
import type { Config } from './config.ts';

/** The core config plus the settings of every module the process serves, by integration type. */
export type ServiceConfig = Config & { readonly integrations: Readonly<Record<string, unknown>> };

export type ModuleSettings<S> = {
  /** The integration type these settings belong to (the definition that declares them has the same type). */
  readonly type: string;
  /** Reads the module's variables; a bad value throws an error naming the variable, which stops the process. */
  read(env: NodeJS.ProcessEnv, core: Config): S;
  /** The module's settings in a composed config; throws if the config was composed without the module. */
  of(config: Pick<ServiceConfig, 'integrations'>): S;
  /** A copy of `config` whose settings of this module have `changes` applied (tests, a one-off tool). */
  with<C extends Pick<ServiceConfig, 'integrations'>>(config: C, changes: Partial<S>): C;
};

/** Declares a module's settings: its integration type and how to read them. */
export function moduleSettings<S extends object>(
  type: string,
  read: (env: NodeJS.ProcessEnv, core: Config) => S,
): ModuleSettings<S> {
  const of = (config: Pick<ServiceConfig, 'integrations'>): S => {
    if (!Object.hasOwn(config.integrations, type))
      throw new Error(`the config has no settings of the ${type} integration (it was composed without that module)`);
    // Only `compose` (from `read`) and `with` store a value under this type, both of type S.
    return config.integrations[type] as S;
  };
  return {
    type,
    read,
    of,
    with: (config, changes) => ({
      ...config,
      integrations: { ...config.integrations, [type]: { ...of(config), ...changes } },
    }),
  };
}

/** The core config with the settings of `modules` (those that declare any), each read from `env`. */
export function composeServiceConfig(
  env: NodeJS.ProcessEnv,
  core: Config,
  modules: ReadonlyArray<{ type: string; settings?: ModuleSettings<unknown> }>,
): ServiceConfig {
  const integrations: Record<string, unknown> = {};
  for (const { type, settings } of modules) {
    if (!settings) continue;
    if (settings.type !== type) throw new Error(`the ${type} integration declares the settings of ${settings.type}`);
    integrations[type] = settings.read(env, core);
  }
  return { ...core, integrations };
}
