import { ArgumentsHost, Catch, ExceptionFilter, HttpException, Logger } from '@nestjs/common';
import type { Request, Response } from 'express';
import { QueryFailedError } from 'typeorm';
import { PkiError } from '@enclave/pki';
import { isDatabaseUnavailable } from '../database/database-errors';
import { AppError, ErrorBody, ErrorCode, ERROR_STATUS } from './app-error';
import { routeTemplate } from './route-template';

/** Maps every error to `{ statusCode, code, message, details?, requestId }`; causes are logged, never sent. */
@Catch()
export class AppErrorFilter implements ExceptionFilter {
  private readonly logger = new Logger('Errors');

  catch(exception: unknown, host: ArgumentsHost): void {
    const ctx = host.switchToHttp();
    const res = ctx.getResponse<Response>();
    const req = ctx.getRequest<Request & { id?: string }>();
    const { body, headers } = this.toBody(exception);
    body.requestId = req.id === undefined ? undefined : String(req.id);
    const context = {
      err: exception,
      code: body.code,
      requestId: body.requestId,
      method: req.method,
      route: routeTemplate(req),
    };
    if (body.statusCode >= 500) {
      this.logger.error(context, body.message);
    } else if (isDataException(exception) || exception instanceof URIError) {
      this.logger.warn(context, 'input refused by the database');
    }
    if (res.headersSent) return;
    for (const [k, v] of Object.entries(headers ?? {})) res.setHeader(k, v);
    res.status(body.statusCode).json(body);
  }

  private toBody(exception: unknown): { body: ErrorBody; headers?: Record<string, string> } {
    if (exception instanceof AppError) {
      return {
        body: {
          statusCode: exception.status,
          code: exception.code,
          message: exception.message,
          details: exception.details,
        },
        headers: exception.headers,
      };
    }
    if (exception instanceof PkiError) {
      // PKI errors reaching a controller are always caused by the caller's input.
      return {
        body: { statusCode: 400, code: exception.code, message: exception.message, details: exception.details },
      };
    }
    if (exception instanceof HttpException) {
      return { body: fromHttpException(exception) };
    }
    if (exception instanceof URIError) {
      // decodeURIComponent on a request value with a malformed escape (`%`, `%E0%A4%A`).
      return { body: errorBody(ErrorCode.VALIDATION_FAILED, 'A value in the request has a malformed %-escape') };
    }
    if (isDataException(exception)) {
      // A value PostgreSQL cannot take (out of range, NUL byte, bad encoding) that validation let through.
      return {
        body: errorBody(
          ErrorCode.VALIDATION_FAILED,
          'A value in the request is out of range or not valid for its field',
        ),
      };
    }
    // The database is down or restarting (issue 14): a 503 the client can retry, never a 500.
    if (isDatabaseUnavailable(exception)) {
      return {
        body: errorBody(ErrorCode.DATABASE_UNAVAILABLE, 'The database is unavailable; try again shortly'),
        headers: { 'retry-after': '5' },
      };
    }
    return { body: errorBody(ErrorCode.INTERNAL, 'Internal server error') };
  }
}

/** SQLSTATE class 22 ("data exception"): the value, not the server, is at fault. */
function isDataException(err: unknown): boolean {
  const code = err instanceof QueryFailedError ? (err as QueryFailedError & { code?: unknown }).code : undefined;
  return typeof code === 'string' && code.startsWith('22');
}

function errorBody(code: ErrorCode, message: string, details?: Record<string, unknown>): ErrorBody {
  return { statusCode: ERROR_STATUS[code], code, message, details };
}

function fromHttpException(ex: HttpException): ErrorBody {
  const status = ex.getStatus();
  const code =
    status === 404
      ? ErrorCode.NOT_FOUND
      : status === 401
        ? ErrorCode.UNAUTHENTICATED
        : status === 403
          ? ErrorCode.FORBIDDEN
          : status === 413
            ? ErrorCode.BODY_TOO_LARGE
            : status === 415
              ? ErrorCode.MEDIA_TYPE_UNSUPPORTED
              : status >= 500
                ? ErrorCode.INTERNAL
                : ErrorCode.VALIDATION_FAILED;
  return { statusCode: status, code, message: status === 404 ? 'Route not found' : ex.message };
}
