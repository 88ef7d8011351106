import SwaggerParser from '@apidevtools/swagger-parser';
import { RequestMethod } from '@nestjs/common';
import { METHOD_METADATA, PATH_METADATA } from '@nestjs/common/constants';
import request from 'supertest';
import { ApiController } from '../src/api/api.controller';
import { useApp } from './support/app';

/** Every route ApiController declares, as `METHOD /api/path/{param}`. */
function controllerRoutes(): string[] {
  const base = Reflect.getMetadata(PATH_METADATA, ApiController) as string;
  const prototype = ApiController.prototype as unknown as Record<string, unknown>;
  return Object.getOwnPropertyNames(prototype).flatMap((name) => {
    const handler = prototype[name];
    if (name === 'constructor' || typeof handler !== 'function') return [];
    const path = Reflect.getMetadata(PATH_METADATA, handler) as string | undefined;
    if (path === undefined) return [];
    const method = RequestMethod[Reflect.getMetadata(METHOD_METADATA, handler) as number];
    return [`${method} /${base}/${path.replace(/:(\w+)/g, '{$1}')}`];
  });
}

describe('OpenAPI document of the HTTP API', () => {
  const fixture = useApp({ API_KEYS: 'ops:openapi-secret-0123456789' });

  it('is served at GET /api/openapi.json without a key, valid OpenAPI 3', async () => {
    const response = await request(fixture.running.server).get('/api/openapi.json');
    expect(response.status).toBe(200);
    const document = response.body as { openapi: string };
    expect(document.openapi).toMatch(/^3\./);
    await expect(SwaggerParser.validate(structuredClone(document) as never)).resolves.toBeDefined();
  });

  it('lists every /api route of the controller, and nothing else', async () => {
    const response = await request(fixture.running.server).get('/api/openapi.json');
    const paths = (response.body as { paths: Record<string, Record<string, unknown>> }).paths;
    const documented = Object.entries(paths).flatMap(([path, operations]) =>
      Object.keys(operations).map((method) => `${method.toUpperCase()} ${path}`),
    );
    const routes = controllerRoutes();
    expect(routes).toHaveLength(5);
    expect(documented.sort()).toEqual(routes.sort());
  });
});

describe('OpenAPI document without API_KEYS', () => {
  const fixture = useApp();

  it('is not served (404)', async () => {
    expect((await request(fixture.running.server).get('/api/openapi.json')).status).toBe(404);
  });
});
