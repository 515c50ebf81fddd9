//! SQLite helpers shared by the tablet's store and the dock's database.

use rusqlite::Connection;

/// Prepared statements kept per connection: every query the store runs
/// more than once, so a hot path (queueing a letter, a policy decision)
/// does not re-parse its SQL.
pub const STATEMENT_CACHE: usize = 256;

/// `query_row` and `execute` through the connection's statement cache
/// (rusqlite's own prepare the SQL anew each call).
pub trait CachedSql {
    fn cached_row<T, P: rusqlite::Params>(
        &self,
        sql: &str,
        params: P,
        f: impl FnOnce(&rusqlite::Row<'_>) -> rusqlite::Result<T>,
    ) -> rusqlite::Result<T>;
    fn cached_exec<P: rusqlite::Params>(&self, sql: &str, params: P) -> rusqlite::Result<usize>;
}

impl CachedSql for Connection {
    fn cached_row<T, P: rusqlite::Params>(
        &self,
        sql: &str,
        params: P,
        f: impl FnOnce(&rusqlite::Row<'_>) -> rusqlite::Result<T>,
    ) -> rusqlite::Result<T> {
        self.prepare_cached(sql)?.query_row(params, f)
    }
    fn cached_exec<P: rusqlite::Params>(&self, sql: &str, params: P) -> rusqlite::Result<usize> {
        self.prepare_cached(sql)?.execute(params)
    }
}
