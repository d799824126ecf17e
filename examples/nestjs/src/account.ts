/**
 * What the Express and the Fastify app share: the session's type, a `@CurrentSession()` parameter
 * decorator, a service, a controller and an exception filter for SessionError.
 *
 * Dependencies are injected with explicit `@Inject(…)` tokens, so the code runs without
 * `emitDecoratorMetadata` (tsx, esbuild and Vite do not emit it).
 */
import "reflect-metadata";
import {
  BadRequestException,
  Body,
  Catch,
  Controller,
  Get,
  HttpCode,
  Inject,
  Injectable,
  Module,
  Post,
  UnauthorizedException,
  createParamDecorator,
  type ArgumentsHost,
  type ExceptionFilter,
  type ExecutionContext,
} from "@nestjs/common";
import { SessionError, sessionErrorResponse, type Session } from "@sess/core";

/** The session's fields, typed once. */
export interface AccountSession {
  username: string;
  visits: number;
  note: string;
}

/**
 * The request's session as a controller parameter. Both `@sess/express` and `@sess/fastify` set
 * `request.session` on the request Nest hands over (Express's `req`, Fastify's `request`).
 */
export const CurrentSession = createParamDecorator(
  (_data: unknown, context: ExecutionContext): Session<AccountSession> =>
    context.switchToHttp().getRequest<{ session: Session<AccountSession> }>().session,
);

function usernameOf(body: unknown): string {
  const username = (body as { username?: unknown } | null)?.username;
  if (typeof username !== "string" || !/^[a-z0-9_]{1,40}$/.test(username)) throw new BadRequestException("username required");
  return username;
}

@Injectable()
export class AccountService {
  /** What the app shows of a logged-in session. */
  profile(session: Session<AccountSession>): { userId: string; username: string | null; visits: number } {
    if (session.userId === null) throw new UnauthorizedException("not logged in");
    return { userId: session.userId, username: session.get("username") ?? null, visits: session.get("visits") ?? 0 };
  }
}

@Controller()
export class AccountController {
  constructor(@Inject(AccountService) private readonly accounts: AccountService) {}

  @Get("visits")
  visits(@CurrentSession() session: Session<AccountSession>): { visits: number } {
    return { visits: session.increment("visits") };
  }

  /** Check the password first; then: a new token at commit (the old one dies), data kept, bound to the user. */
  @Post("login")
  @HttpCode(200)
  login(@CurrentSession() session: Session<AccountSession>, @Body() body: unknown): ReturnType<AccountService["profile"]> {
    const username = usernameOf(body);
    session.login(`user:${username}`);
    session.set("username", username);
    return this.accounts.profile(session);
  }

  /** A value past the session's size limit throws PAYLOAD_TOO_LARGE: the filter answers 413. */
  @Post("note")
  @HttpCode(204)
  note(@CurrentSession() session: Session<AccountSession>, @Body() body: unknown): void {
    const note = (body as { note?: unknown } | null)?.note;
    if (typeof note !== "string") throw new BadRequestException("note required");
    session.set("note", note);
  }

  @Get("me")
  me(@CurrentSession() session: Session<AccountSession>): ReturnType<AccountService["profile"]> {
    return this.accounts.profile(session);
  }

  /** After a password change: a new token, and every other session of the user ended at commit. */
  @Post("password")
  @HttpCode(204)
  changePassword(@CurrentSession() session: Session<AccountSession>): void {
    if (session.userId === null) throw new UnauthorizedException("not logged in");
    session.regenerate({ endOtherSessions: true });
  }

  @Post("logout")
  @HttpCode(204)
  logout(@CurrentSession() session: Session<AccountSession>): void {
    session.destroy();
  }
}

/**
 * SessionErrors thrown in a handler (`PAYLOAD_TOO_LARGE`, `VALUE_INVALID`, …): their status, their
 * headers (a clearing cookie where there is one) and a JSON body. Works on both platforms.
 */
@Catch(SessionError)
export class SessionErrorFilter implements ExceptionFilter {
  catch(error: SessionError, host: ArgumentsHost): void {
    const { status, headers, body } = sessionErrorResponse(error);
    const response = host.switchToHttp().getResponse<{
      status?: (code: number) => unknown;
      code?: (code: number) => unknown;
      header(name: string, value: string): unknown;
      send(body: unknown): unknown;
    }>();
    // Express's `res.status`, Fastify's `reply.code`.
    if (typeof response.code === "function") response.code(status);
    else response.status!(status);
    for (const [name, value] of Object.entries(headers)) response.header(name, value);
    response.send(body);
  }
}

@Module({ controllers: [AccountController], providers: [AccountService] })
export class AccountModule {}
