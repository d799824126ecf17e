import { createKoaApp } from "./koa-app.js";
import { fail, start } from "./server.js";

start("koa", (demo) => createKoaApp(demo).callback()).catch(fail);
