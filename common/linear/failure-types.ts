// The failure types of Linear calls, shared by the client's error mapping (common/linear/errors.ts), the activities
// and the link workflow, which pauses on the non-retryable ones.
/**
 * ApplicationFailure types the activities throw. Non-retryable ones pause a link until someone fixes the cause;
 * `LinearRateLimited` is retryable and carries Linear's Retry-After as the next retry delay.
 */
export const linearFailureTypes = {
  /** The token was revoked or expired and could not be refreshed; the installation needs reconnecting. */
  authRevoked: 'LinearAuthRevoked',
  /** The issue was deleted (or is not visible to the token). */
  issueNotFound: 'LinearIssueNotFound',
  /** The token lacks a scope the call needs. */
  forbidden: 'LinearForbidden',
  /** Linear refused the input (e.g. a state of another team): a configuration problem, not transient. */
  invalidInput: 'LinearInvalidInput',
  /**
   * The issue is in a team this installation may not link (it is not the configured team or one an admin added):
   * linking it is refused, and a linked issue moved to such a team pauses its link.
   */
  teamNotAllowed: 'LinearTeamNotAllowed',
  /** The installation was removed or disconnected (no credentials). */
  notConnected: 'LinearNotConnected',
  /** The link row is gone (unlinked): the link's workflow ends. */
  linkNotFound: 'LinearLinkNotFound',
  rateLimited: 'LinearRateLimited',
} as const;
