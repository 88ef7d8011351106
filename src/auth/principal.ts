/** Who a connection authenticated as, read from a verified token. */
export interface Principal {
  /** The token's `sub`: never empty or blank. */
  readonly sub: string;
  /** The token's `name`, or `sub` when the token has no name or an empty one. */
  readonly name: string;
  /**
   * The token's `exp` in seconds since the epoch; undefined when the token has no `exp`, which
   * means it never expires (see TokenVerifier).
   */
  readonly exp?: number;
}
