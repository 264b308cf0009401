/** Injection token: the PostgreSQL URL the hub runs on (a server, or the embedded cluster). */
export const DATABASE_URL = Symbol('DATABASE_URL');
