/** The PostgreSQL URL in use (external DATABASE_URL or the embedded server's). */
export const DATABASE_URL = Symbol('DATABASE_URL');

/** `() => DatabaseHealth` of the supervised embedded PostgreSQL, or null with an external DATABASE_URL. */
export const DATABASE_HEALTH = Symbol('DATABASE_HEALTH');
