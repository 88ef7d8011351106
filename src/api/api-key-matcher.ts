import { createHash, timingSafeEqual } from 'node:crypto';
import type { ApiKey } from '../config/api-keys';

/**
 * Finds the key a request presents, in time that does not depend on how much of a secret an
 * attacker guessed: every configured key is compared (no early exit), each through a SHA-256
 * digest so that timingSafeEqual always sees equal lengths.
 */
export class ApiKeyMatcher {
  private readonly digests: readonly { readonly key: ApiKey; readonly digest: Buffer }[];

  constructor(keys: readonly ApiKey[]) {
    this.digests = keys.map((key) => ({ key, digest: digestOf(key.secret) }));
  }

  match(presented: string): ApiKey | undefined {
    const digest = digestOf(presented);
    let found: ApiKey | undefined;
    for (const entry of this.digests) {
      if (timingSafeEqual(entry.digest, digest) && found === undefined) found = entry.key;
    }
    return found;
  }
}

function digestOf(secret: string): Buffer {
  return createHash('sha256').update(secret).digest();
}
