import { randomBytes } from 'node:crypto';

/**
 * Identifies this process among all instances sharing a bus. Connection ids are prefixed with it,
 * which makes them unique across instances without coordination.
 */
export class InstanceId {
  readonly value = randomBytes(6).toString('base64url');
  private sequence = 0;

  nextConnectionId(): string {
    return `${this.value}.${(++this.sequence).toString(36)}`;
  }
}
