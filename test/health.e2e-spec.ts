import { useApp } from './support/app';

describe('GET /health', () => {
  const fixture = useApp();

  it('answers 200 with JSON {"status":"ok"}', async () => {
    const response = await fixture.request().get('/health');
    expect(response.status).toBe(200);
    expect(response.headers['content-type']).toMatch(/^application\/json/);
    expect(response.body).toEqual({ status: 'ok' });
  });
});
