/** NestJS on Express (`@nestjs/platform-express`) with `@sess/express`. */
import { Controller, Get, Inject, Injectable, Module } from "@nestjs/common";
import { NestFactory } from "@nestjs/core";
import type { NestExpressApplication } from "@nestjs/platform-express";
import { currentSession, type SessionDriver } from "@sess/core";
import { sessionMiddleware, type SessionMiddleware } from "@sess/express";
import { AccountModule, SessionErrorFilter, type AccountSession } from "./account.js";

/** A service that is not handed the request: it reads the session of the request being handled. */
@Injectable()
export class GreetingService {
  greeting(): string {
    const session = currentSession<AccountSession>(); // needs sessionMiddleware({ asyncContext: true })
    return session.userId === null ? "hello, guest" : `hello, ${session.get("username") ?? session.userId}`;
  }
}

@Controller("greeting")
export class GreetingController {
  constructor(@Inject(GreetingService) private readonly greetings: GreetingService) {}

  @Get()
  greet(): { greeting: string } {
    return { greeting: this.greetings.greeting() };
  }
}

@Module({ imports: [AccountModule], controllers: [GreetingController], providers: [GreetingService] })
export class ExpressAppModule {}

export async function createExpressApp(driver: SessionDriver): Promise<{ app: NestExpressApplication; sessions: SessionMiddleware<AccountSession> }> {
  const sessions = sessionMiddleware<AccountSession>({ driver, asyncContext: true });
  const app = await NestFactory.create<NestExpressApplication>(ExpressAppModule, { logger: false });
  app.use(sessions); // before the routes: Nest registers them at init
  app.useGlobalFilters(new SessionErrorFilter());
  return { app, sessions };
}
