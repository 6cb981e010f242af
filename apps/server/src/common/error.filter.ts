import { ArgumentsHost, Catch, ExceptionFilter, HttpException, Logger } from '@nestjs/common';
import type { Request, Response } from 'express';
import { PkiError } from '@enclave/pki';
import { isDatabaseUnavailable } from '../database/database-errors';
import { AppError, ErrorBody, ErrorCode, ERROR_STATUS } from './app-error';

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
    if (body.statusCode >= 500) {
      this.logger.error({ err: exception, code: body.code, path: req.url }, body.message);
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
            : status >= 500
              ? ErrorCode.INTERNAL
              : ErrorCode.VALIDATION_FAILED;
  return { statusCode: status, code, message: status === 404 ? 'Route not found' : ex.message };
}
