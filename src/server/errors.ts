/**
 * The server's typed errors: each carries the HTTP status it is answered with, and its message is the one line the
 * client reads (`{ error: name, message }`).
 */

/** An error the server answers with its own status. */
export class HttpError extends Error {
  constructor(
    readonly statusCode: number,
    message: string,
  ) {
    super(message);
  }
}

/** 400: the request itself is wrong (a query value that does not parse, a review without its label). */
export class BadRequestError extends HttpError {
  override name = 'BadRequestError';
  constructor(message: string) {
    super(400, message);
  }
}

/** 401: no token, or one the server does not know. */
export class UnauthorizedError extends HttpError {
  override name = 'UnauthorizedError';
  constructor(message: string) {
    super(401, message);
  }
}

/** 403: the token's role is below the endpoint's. */
export class ForbiddenError extends HttpError {
  override name = 'ForbiddenError';
  constructor(message: string) {
    super(403, message);
  }
}

/** 404: no such instance, task or token. */
export class NotFoundError extends HttpError {
  override name = 'NotFoundError';
  constructor(message: string) {
    super(404, message);
  }
}

/** 409: a token name already taken. */
export class ConflictError extends HttpError {
  override name = 'ConflictError';
  constructor(message: string) {
    super(409, message);
  }
}

/** 415: the body is not a DICOM, PNG or JPEG file. */
export class UnsupportedFilmError extends HttpError {
  override name = 'UnsupportedFilmError';
  constructor(message: string) {
    super(415, message);
  }
}

/** 422: a film that was read but cannot be analysed (unreadable pixels, refused for every task). */
export class UnanalysableFilmError extends HttpError {
  override name = 'UnanalysableFilmError';
  constructor(message: string) {
    super(422, message);
  }
}

/** 503: the analysis could not run now (queue full, worker died or overran, shutting down). */
export class ServiceUnavailableError extends HttpError {
  override name = 'ServiceUnavailableError';
  constructor(message: string) {
    super(503, message);
  }
}
