/**
 * The one error type. Services and handlers throw it; the error handler turns
 * it into JSON or an HTML page. `message` is shown to the client for 4xx and
 * must say what to fix; for 5xx the client sees a generic message.
 */
export class AppError extends Error {
  constructor(
    readonly code: string,
    readonly status: number,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
    this.name = "AppError";
  }

  static badRequest(message: string, details?: unknown) {
    return new AppError("bad_request", 400, message, details);
  }
  static validation(message: string, details?: unknown) {
    return new AppError("validation_failed", 400, message, details);
  }
  static unauthorized(message = "Sign in to continue.") {
    return new AppError("unauthorized", 401, message);
  }
  static forbidden(message: string, code = "forbidden") {
    return new AppError(code, 403, message);
  }
  static notFound(what = "page") {
    return new AppError("not_found", 404, `No such ${what}.`);
  }
  static conflict(message: string, details?: unknown) {
    return new AppError("conflict", 409, message, details);
  }
}
