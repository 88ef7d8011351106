import { DEVELOPMENT_JWT_SECRET } from './development-secret';

/**
 * JWT_SECRET values that anyone can read in this repository or its history: the development
 * secret and the default docker-compose.yml once shipped. Production refuses them, since a
 * token signed with one is a token anyone can forge. published-secrets.spec.ts fails when a
 * tracked file sets JWT_SECRET to a value missing here.
 */
export const PUBLISHED_JWT_SECRETS: ReadonlySet<string> = new Set([
  DEVELOPMENT_JWT_SECRET,
  'switchboard-compose-dev-secret-change-me',
]);

/** Shortest JWT_SECRET production accepts, in bytes: HS256 wants a key as long as its hash. */
export const MIN_PRODUCTION_SECRET_BYTES = 32;
