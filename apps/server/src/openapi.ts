import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { DocumentBuilder, getSchemaPath, OpenAPIObject, SwaggerModule } from '@nestjs/swagger';
import pino from 'pino';
import { AppModule } from './app.module';
import { ErrorResponseDto } from './common/error-response.dto';
import { SecretBox } from './common/secret-box';
import { loadConfig } from './config/app-config';

export const OPENAPI_FILE = path.join(__dirname, '..', 'openapi.json');

export function buildOpenApiDocument(app: INestApplication): OpenAPIObject {
  const config = new DocumentBuilder()
    .setTitle('Enclave')
    .setDescription(
      "Enclave server API: the organization's certificate authority, admin API and the JAMS client protocol.",
    )
    .setVersion('1')
    .addBearerAuth()
    .build();
  const doc = SwaggerModule.createDocument(app, config, {
    operationIdFactory: (controller, method) => `${controller.replace(/Controller$/, '')}_${method}`,
    extraModels: [ErrorResponseDto],
  });
  return withErrorResponses(doc);
}

const HTTP_METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'] as const;

/**
 * Every operation answers errors with ErrorResponseDto (the global filter's shape): it becomes the
 * `default` response of each operation, and the explicitly documented 4xx/5xx responses keep their
 * descriptions and get the same schema. Applied here, so a new route is covered without a decorator.
 */
export function withErrorResponses(doc: OpenAPIObject): OpenAPIObject {
  const content = { 'application/json': { schema: { $ref: getSchemaPath(ErrorResponseDto) } } };
  for (const item of Object.values(doc.paths)) {
    for (const method of HTTP_METHODS) {
      const op = item[method];
      if (!op) continue;
      for (const [status, response] of Object.entries(op.responses)) {
        if (response && /^[45]\d\d$/.test(status) && !('$ref' in response) && !response.content)
          response.content = content;
      }
      op.responses.default ??= {
        description: 'Error: `{ statusCode, code, message, details?, requestId }`',
        content,
      };
    }
  }
  return doc;
}

/** Stable text of the document, as committed in apps/server/openapi.json. */
export function serializeOpenApi(doc: OpenAPIObject): string {
  return JSON.stringify(doc, null, 2) + '\n';
}

export function writeOpenApi(doc: OpenAPIObject, file = OPENAPI_FILE): void {
  fs.writeFileSync(file, serializeOpenApi(doc));
}

/**
 * The document from the controllers alone: the app is built in Nest's preview mode, so no provider runs
 * and no database is needed.
 */
export async function generateOpenApiDocument(): Promise<OpenAPIObject> {
  const app = await NestFactory.create(
    AppModule.forRoot({
      config: loadConfig({}),
      databaseUrl: 'postgres://unused@127.0.0.1:1/unused',
      secrets: new SecretBox(randomBytes(32)),
      logger: pino({ level: 'silent' }),
    }),
    { preview: true, logger: false, abortOnError: false },
  );
  try {
    return buildOpenApiDocument(app);
  } finally {
    await app.close();
  }
}
