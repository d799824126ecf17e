/**
 * `pnpm --filter @sess/example-nestjs start [express|fastify]`: the app on PORT (default 3000),
 * sessions in Redis at REDIS_URL, or in memory without it.
 */
import { Redis } from "ioredis";
import { createMemoryDriver } from "@sess/core/memory";
import { createIoredisDriver } from "@sess/ioredis";
import { createExpressApp } from "./express.js";
import { createFastifyApp } from "./fastify.js";

const platform = process.argv[2] ?? "express";
if (platform !== "express" && platform !== "fastify") throw new Error(`unknown platform ${platform}: express or fastify`);
const redisUrl = process.env.REDIS_URL;
const client = redisUrl === undefined ? null : new Redis(redisUrl);
client?.on("error", (error: Error) => console.error(`redis: ${error.message}`));
const driver = client === null ? createMemoryDriver() : createIoredisDriver({ client, prefix: "nest" });
const { app } = platform === "express" ? await createExpressApp(driver) : await createFastifyApp(driver);
const port = Number(process.env.PORT ?? 3000);
await app.listen(port, "127.0.0.1");
console.log(`NestJS on ${platform}, sessions in ${client === null ? "memory" : "Redis"}: http://127.0.0.1:${port}`);
