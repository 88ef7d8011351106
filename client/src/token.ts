/** The `exp` claim of a JWT, in ms since the Unix epoch; undefined when absent or unreadable. */
export function tokenExpiryMs(token: string): number | undefined {
  try {
    const part = token.split('.')[1].replace(/-/g, '+').replace(/_/g, '/');
    const claims = JSON.parse(atob(part)) as { exp?: unknown };
    return typeof claims.exp === 'number' ? claims.exp * 1000 : undefined;
  } catch {
    // Not a JWT the client can read: the server still judges it; only early refresh is lost.
    return undefined;
  }
}

/** `url` with `?token=` (or `&token=`) appended. */
export function withToken(url: string, token: string | undefined): string {
  if (!token) return url;
  return `${url}${url.includes('?') ? '&' : '?'}token=${encodeURIComponent(token)}`;
}
