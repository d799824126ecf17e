/** NestJS on Fastify (`@nestjs/platform-fastify`) with `@sess/fastify`. */
import { NestFactory } from "@nestjs/core";
import { FastifyAdapter, type NestFastifyApplication } from "@nestjs/platform-fastify";
import type { SessionDriver } from "@sess/core";
import { sessionPlugin, type SessionPlugin } from "@sess/fastify";
import { AccountModule, SessionErrorFilter, type AccountSession } from "./account.js";

export async function createFastifyApp(driver: SessionDriver): Promise<{ app: NestFastifyApplication; sessions: SessionPlugin<AccountSession> }> {
  const sessions = sessionPlugin<AccountSession>({ driver });
  const app = await NestFactory.create<NestFastifyApplication>(AccountModule, new FastifyAdapter(), { logger: false });
  await app.register(sessions); // on the root instance: every route gets sessions
  app.useGlobalFilters(new SessionErrorFilter());
  return { app, sessions };
}
