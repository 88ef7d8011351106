import request from 'supertest';
import { startApp, type RunningApp } from './support/app';

describe('GET /health', () => {
  let running: RunningApp;

  beforeAll(async () => {
    running = await startApp();
  });

  afterAll(async () => {
    await running.close();
  });

  it('answers 200 with JSON {"status":"ok"}', async () => {
    const response = await request(running.server).get('/health');
    expect(response.status).toBe(200);
    expect(response.headers['content-type']).toMatch(/^application\/json/);
    expect(response.body).toEqual({ status: 'ok' });
  });
});
