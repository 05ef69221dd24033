// @linear/sdk (3 MB of JavaScript, ~10 MB of heap once loaded) is loaded by the first call to Linear, not when the
// API starts: the API only calls Linear for an admin's setup and an agent's linking (common/lazy-module.ts). Every
// LinearError a call raises comes from this module, so checking an error against its classes needs it loaded.
import { onFirstUse } from '../lazy-module.ts';

export const loadLinearSdk = onFirstUse(() => import('@linear/sdk'));
