import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { DocumentBuilder, OpenAPIObject, SwaggerModule } from '@nestjs/swagger';
import pino from 'pino';
import { AppModule } from './app.module';
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
  return SwaggerModule.createDocument(app, config, {
    operationIdFactory: (controller, method) => `${controller.replace(/Controller$/, '')}_${method}`,
  });
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
