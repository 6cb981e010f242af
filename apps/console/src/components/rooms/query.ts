export const roomQuery = (name: string) => ({ params: { path: { name } } });

/** The people picker's first page of users (the picker filters it as the admin types). */
export const PICKER_USERS_QUERY = { params: { query: { limit: 200 } } };
