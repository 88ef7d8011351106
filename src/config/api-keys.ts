/** What an API key may do: `read` history and presence, `publish` and broadcast, or all (`admin`). */
export type ApiScope = 'publish' | 'read' | 'admin';

/** One entry of API_KEYS. The secret is never logged: only the name identifies a caller. */
export interface ApiKey {
  readonly name: string;
  readonly secret: string;
  readonly scope: ApiScope;
}

/** API_KEYS (already checked against its pattern) as keys; unset gives none. */
export function parseApiKeys(value: string | undefined): ApiKey[] {
  if (value === undefined) return [];
  return value.split(',').map((entry) => {
    const [name, secret, scope = 'admin'] = entry.trim().split(':');
    return { name, secret, scope: scope as ApiScope };
  });
}
