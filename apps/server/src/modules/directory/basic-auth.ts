import type { Request, Response } from 'express';
import { Passport } from 'passport';
import { BasicStrategy } from 'passport-http';
import { AppError, ErrorCode } from '../../common/app-error';
import type { User } from '../users/user.entity';

const STRATEGY = 'enclave-user-basic';

export type VerifyUser = (username: string, password: string, req: Request) => Promise<User>;

/**
 * HTTP Basic authentication of users through a passport strategy (passport-http), on an instance of its own
 * so that several servers in one process do not share strategies. INVALID_CREDENTIALS becomes a passport
 * failure; every other error (suspended, directory down, rate limit) propagates unchanged.
 */
export class BasicAuthenticator {
  private readonly passport = new Passport();

  constructor(verify: VerifyUser) {
    this.passport.use(
      STRATEGY,
      new BasicStrategy({ passReqToCallback: true }, (req: Request, username: string, password: string, done) => {
        verify(username, password, req).then(
          (user) => done(null, user),
          (err: unknown) =>
            err instanceof AppError && err.code === ErrorCode.INVALID_CREDENTIALS ? done(null, false) : done(err),
        );
      }),
    );
  }

  /** The user named by the request's Basic credentials; null when the request carries none. */
  authenticate(req: Request, res: Response): Promise<User | null> {
    if (!/^Basic\s/i.test(req.headers.authorization ?? '')) return Promise.resolve(null);
    return new Promise((resolve, reject) => {
      this.passport.authenticate(STRATEGY, { session: false }, (err: unknown, user: User | false) => {
        if (err) reject(err);
        else if (!user) reject(new AppError(ErrorCode.INVALID_CREDENTIALS, 'Wrong username or password'));
        else resolve(user);
      })(req, res, (err?: unknown) => (err ? reject(err) : resolve(null)));
    });
  }
}
