/** What the root vitest global setup provides (see vitest.global-setup.ts). */
import "vitest";

declare module "vitest" {
  export interface ProvidedContext {
    redisUrl: string;
  }
}
