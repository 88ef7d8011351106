import { parseApiKeys } from '../config/api-keys';
import { ApiKeyMatcher } from './api-key-matcher';

describe('API keys', () => {
  const keys = parseApiKeys(' ops:ops-secret-0123456789 , orders:orders-secret-0123456789:publish');

  it('parses name:secret[:scope], admin by default', () => {
    expect(keys).toEqual([
      { name: 'ops', secret: 'ops-secret-0123456789', scope: 'admin' },
      { name: 'orders', secret: 'orders-secret-0123456789', scope: 'publish' },
    ]);
    expect(parseApiKeys(undefined)).toEqual([]);
  });

  it('matches the exact secret only, whatever its length', () => {
    const matcher = new ApiKeyMatcher(keys);
    expect(matcher.match('orders-secret-0123456789')?.name).toBe('orders');
    expect(matcher.match('ops-secret-0123456789')?.name).toBe('ops');
    for (const wrong of [
      '',
      'ops',
      'ops-secret-012345678',
      'ops-secret-0123456789x',
      'x'.repeat(5000),
    ]) {
      expect(matcher.match(wrong)).toBeUndefined();
    }
  });
});
