export * from "./errors.js";
export * from "./driver.js";
export {
  TOKEN_LENGTH,
  TAG_LENGTH,
  SESSION_ID_LENGTH,
  isToken,
  isSessionId,
  newToken,
  sessionIdOf,
  tagOf,
} from "./token.js";
