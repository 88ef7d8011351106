import type { INestApplication } from '@nestjs/common';
import { DocumentBuilder, SwaggerModule, type OpenAPIObject } from '@nestjs/swagger';
import type { AppConfig } from '../config/app-config';
import { ApiModule } from './api.module';

/** Where the OpenAPI document of the HTTP API is served (only when API_KEYS is set). */
export const OPENAPI_PATH = '/api/openapi.json';

/** The OpenAPI 3 document of the /api routes, generated from their controller and DTOs. */
export function openApiDocument(app: INestApplication): OpenAPIObject {
  const config = new DocumentBuilder()
    .setTitle('Switchboard HTTP API')
    .setDescription('Publish, broadcast, history, presence and disconnects for backends.')
    .setVersion('1')
    .addBearerAuth({ type: 'http', scheme: 'bearer', description: 'An API_KEYS secret' })
    .addApiKey({ type: 'apiKey', in: 'header', name: 'X-API-Key' }, 'api-key')
    .build();
  return SwaggerModule.createDocument(app, config, { include: [ApiModule] });
}

/**
 * Serves the document at OPENAPI_PATH, without a key (it describes, it does not grant) and
 * without the Swagger UI. Nothing when the API is off: the route is a 404 like the others.
 */
export function serveOpenApi(app: INestApplication, config: AppConfig): void {
  if (config.api.keys.length === 0) return;
  SwaggerModule.setup(OPENAPI_PATH, app, () => openApiDocument(app), {
    ui: false,
    raw: ['json'],
    jsonDocumentUrl: OPENAPI_PATH,
  });
}
