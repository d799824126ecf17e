import { createExpressApp } from "./express-app.js";
import { fail, start } from "./server.js";

start("express", (demo) => createExpressApp(demo)).catch(fail);
