import { type INestApplication, type LogLevel } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import express, { type NextFunction, type Request, type Response } from 'express';
import { AppModule } from './app.module.js';
import type { AppConfig } from './config/app-config.js';

/** Requests larger than this are refused before they are parsed. */
export const MAX_BODY_BYTES = 1024 * 1024;

const LOG_LEVELS: Record<AppConfig['logLevel'], LogLevel[]> = {
  debug: ['fatal', 'error', 'warn', 'log', 'debug'],
  info: ['fatal', 'error', 'warn', 'log'],
  warn: ['fatal', 'error', 'warn'],
  error: ['fatal', 'error'],
  silent: [],
};

/** A body the JSON parser refused (too large, malformed) answered as a GraphQL-shaped client error. */
function bodyErrorHandler(error: unknown, _req: Request, res: Response, next: NextFunction): void {
  const status = typeof error === 'object' && error !== null && 'status' in error ? Number(error.status) : 500;
  if (res.headersSent || !(status >= 400 && status < 500)) return next(error);
  const message = status === 413 ? `request body larger than ${MAX_BODY_BYTES} bytes` : 'malformed request body';
  res.status(status).json({ errors: [{ message, extensions: { code: 'BAD_USER_INPUT' } }] });
}

/** Builds the hub (not listening yet) for a configuration and a database URL. */
export async function createHub(config: AppConfig, databaseUrl: string): Promise<INestApplication> {
  const app = await NestFactory.create<NestExpressApplication>(AppModule.forRoot(config, databaseUrl), {
    bodyParser: false,
    logger: LOG_LEVELS[config.logLevel],
  });
  app.use(express.json({ limit: MAX_BODY_BYTES }));
  await app.init();
  app.use(bodyErrorHandler);
  return app;
}
