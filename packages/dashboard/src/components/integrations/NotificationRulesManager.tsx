// The notifications module's setup component (its catalogue entry names NotificationRulesManager): found here by
// file name like every other integration's, and kept with the other notification components.
export { NotificationRulesManager } from '../notifications/NotificationRulesManager.tsx';
