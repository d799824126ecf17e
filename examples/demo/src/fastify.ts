import { createFastifyApp } from "./fastify-app.js";
import { fail, start } from "./server.js";

start("fastify", async (demo) => {
  const app = await createFastifyApp(demo);
  return (req, res) => app.routing(req, res);
}).catch(fail);
