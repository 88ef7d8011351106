import { setTimeout as sleep } from 'node:timers/promises';
import { HttpException, Injectable } from '@nestjs/common';
import type { JsonValue } from '../bus/bus';
import { ApiErrors } from './api-errors';
import { IdempotencyStore } from './idempotency-store';

/** How long a duplicate waits for the first call's result before answering 409. */
export const IDEMPOTENCY_WAIT_MS = 2000;
const POLL_MS = 25;

/** Printable ASCII, as HTTP header values are, 1–255 characters. */
const KEY_PATTERN = /^[\x21-\x7e]{1,255}$/;

/**
 * Runs an API call at most once per Idempotency-Key (per API key and route) within
 * IDEMPOTENCY_TTL_MS: a retry gets the first call's result without running it again. A
 * duplicate arriving while the first is still running waits up to IDEMPOTENCY_WAIT_MS for its
 * result, then gets 409. A call that failed is forgotten, so its retry runs.
 */
@Injectable()
export class IdempotentCalls {
  constructor(private readonly store: IdempotencyStore) {}

  async run<T extends object>(
    scope: string,
    idempotencyKey: string | undefined,
    call: () => Promise<T>,
  ): Promise<T> {
    if (idempotencyKey === undefined) return call();
    if (!KEY_PATTERN.test(idempotencyKey)) {
      throw ApiErrors.validation([
        { field: 'Idempotency-Key', message: 'Idempotency-Key must be 1-255 printable characters' },
      ]);
    }
    const key = `${scope}:${idempotencyKey}`;
    const claim = await this.store.claim(key).catch(busUnavailable);
    if (claim.state === 'done') return claim.result as unknown as T;
    if (claim.state === 'pending') return (await this.awaitResult(key)) as unknown as T;
    let result: T;
    try {
      result = await call();
    } catch (error) {
      await this.store.release(key).catch(() => undefined);
      throw error;
    }
    // The call took effect: its result is answered even if it could not be kept, and the
    // claim is given up so that a retry is not held as pending for IDEMPOTENCY_TTL_MS.
    await this.store
      .complete(key, result as unknown as JsonValue)
      .catch(() => this.store.release(key))
      .catch(() => undefined);
    return result;
  }

  private async awaitResult(key: string): Promise<JsonValue> {
    for (let waited = 0; waited < IDEMPOTENCY_WAIT_MS; waited += POLL_MS) {
      await sleep(POLL_MS);
      const claim = await this.store.claim(key).catch(busUnavailable);
      if (claim.state === 'done') return claim.result;
      if (claim.state === 'claimed') {
        // The first call failed and released the key, which this claim now holds: free it, so
        // the caller's retry runs.
        await this.store.release(key).catch(() => undefined);
        break;
      }
    }
    throw ApiErrors.idempotencyConflict();
  }
}

function busUnavailable(): never {
  throw ApiErrors.busUnavailable() satisfies HttpException;
}
