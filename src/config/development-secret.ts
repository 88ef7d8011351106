/**
 * The secret used when JWT_SECRET is unset outside production. Public by design: tokens signed
 * with it are worthless anywhere else, and production refuses to start with it.
 */
export const DEVELOPMENT_JWT_SECRET = 'switchboard-development-secret-do-not-use-in-production';
