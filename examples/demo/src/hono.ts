import { getRequestListener } from "@hono/node-server";
import { createHonoApp } from "./hono-app.js";
import { fail, start } from "./server.js";

start("hono", (demo) => {
  const handle = getRequestListener(createHonoApp(demo).fetch);
  return (req, res) => {
    void handle(req, res);
  };
}).catch(fail);
