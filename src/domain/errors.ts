// Errors a business rule raises. Services throw these; the HTTP layer turns them into
// {error: {code, message, details, request_id}} with `status` (invariant 7), the CLI and jobs print
// or record them. The status travels with the error because every caller of a service needs the
// same answer for the same refusal (a missing item is a 404 whether HTTP or a CSV import asks).
export class AppError extends Error {
  readonly status: number;
  readonly code: string;
  readonly details: unknown;
  constructor(status: number, code: string, message: string, details: unknown = null) {
    super(message);
    this.name = 'AppError';
    this.status = status;
    this.code = code;
    this.details = details;
  }
}

export const notFound = (what: string) => new AppError(404, 'not_found', `${what} not found`);
export const conflict = (message: string, details: unknown = null) => new AppError(409, 'conflict', message, details);
