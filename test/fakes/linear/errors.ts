// Linear's error bodies. The SDK picks its error class from `extensions.type` (see parseLinearError in
// @linear/sdk), so these strings are what makes an AuthenticationLinearError or RatelimitedLinearError appear.
export interface LinearErrorBody {
  message: string;
  path?: ReadonlyArray<string | number>;
  locations?: ReadonlyArray<{ line: number; column: number }>;
  extensions: {
    type: string;
    code: string;
    statusCode?: number;
    userError?: boolean;
    userPresentableMessage?: string;
    [key: string]: unknown;
  };
}

export function authenticationError(reason: string): LinearErrorBody {
  return {
    message: `Authentication required, not authenticated - ${reason}`,
    extensions: {
      type: 'authentication error',
      code: 'AUTHENTICATION_ERROR',
      statusCode: 401,
      userError: true,
      userPresentableMessage: 'You need to authenticate to access this operation.',
    },
  };
}

export function ratelimitedError(limit: number): LinearErrorBody {
  return {
    message: `Rate limit exceeded. Only ${limit} requests are allowed per 1 hour.`,
    extensions: {
      type: 'ratelimited',
      code: 'RATELIMITED',
      statusCode: 429,
      userError: true,
      userPresentableMessage: 'Rate limit exceeded. Please wait and try again.',
    },
  };
}

export function forbiddenError(message: string): LinearErrorBody {
  return {
    message,
    extensions: {
      type: 'forbidden',
      code: 'FORBIDDEN',
      statusCode: 403,
      userError: true,
      userPresentableMessage: message,
    },
  };
}

export function entityNotFoundError(entity: string, path?: ReadonlyArray<string | number>): LinearErrorBody {
  return {
    message: `Entity not found: ${entity}`,
    path,
    extensions: {
      type: 'invalid input',
      code: 'INPUT_ERROR',
      userError: true,
      userPresentableMessage: `Could not find referenced ${entity}.`,
    },
  };
}

export function invalidInputError(message: string, path?: ReadonlyArray<string | number>): LinearErrorBody {
  return {
    message: `Argument Validation Error - ${message}`,
    path,
    extensions: { type: 'invalid input', code: 'INPUT_ERROR', userError: true, userPresentableMessage: message },
  };
}

export function graphqlValidationError(
  message: string,
  locations?: ReadonlyArray<{ line: number; column: number }>,
): LinearErrorBody {
  return {
    message,
    locations,
    extensions: { type: 'graphql error', code: 'GRAPHQL_VALIDATION_FAILED', userError: true },
  };
}

export function internalError(message = 'Internal server error'): LinearErrorBody {
  return { message, extensions: { type: 'internal error', code: 'INTERNAL_SERVER_ERROR' } };
}
