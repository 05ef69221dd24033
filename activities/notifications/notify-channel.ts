/** The PostgreSQL channel that tells API processes a member's in-app notifications changed (`<org>:<user>`). */
export const NOTIFY_CHANNEL = 'notifications';
