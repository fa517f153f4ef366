//! sqlx results and row columns as the store's typed errors, in one place, so that query code
//! says what it reads and not how each failure is translated.
//!
//! Owns: the one mapping of sqlx errors to [`StoreError`] (a unique violation is
//! [`StoreError::Conflict`], anything else [`StoreError::Database`]), reading a column by name
//! (sqlx's decode errors name the column), the stored shapes of times (Unix seconds), flags
//! (0/1 integers) and kinds (text parsed into a domain type; text nobody wrote is
//! [`StoreError::Corrupt`] naming the column, never a guess).
//!
//! Must not know: tables, queries, transactions or the domain records built from the columns.

use sahih_core::store::{StoreError, StoreResult};
use sqlx::any::AnyRow;
use sqlx::{Any, Decode, Row, Type};
use time::OffsetDateTime;

/// A time as stored: Unix seconds (both backends compare integers alike).
pub(crate) fn ts(t: OffsetDateTime) -> i64 {
    t.unix_timestamp()
}

/// A stored time read back; out of range means the row was not written by us.
pub(crate) fn from_ts(v: i64) -> StoreResult<OffsetDateTime> {
    OffsetDateTime::from_unix_timestamp(v).map_err(|e| StoreError::Corrupt(e.to_string()))
}

/// A time column's value read back, the column named when it is out of range.
fn stored_time(v: i64, column: &str) -> StoreResult<OffsetDateTime> {
    OffsetDateTime::from_unix_timestamp(v)
        .map_err(|e| StoreError::Corrupt(format!("{column}: {e}")))
}

fn db_error(e: sqlx::Error) -> StoreError {
    match &e {
        // Every unique index guards an identity (NIK, client name, e-mail, id): a duplicate is
        // the caller's "already exists", whichever statement ran into it.
        sqlx::Error::Database(d) if d.is_unique_violation() => {
            StoreError::Conflict(d.message().to_string())
        }
        _ => StoreError::Database(e.to_string()),
    }
}

/// `.db()?` on any sqlx result: the store's error, converted the one way above.
pub(crate) trait Db<T> {
    /// The result with its sqlx error converted to a [`StoreError`].
    fn db(self) -> StoreResult<T>;
}

impl<T> Db<T> for Result<T, sqlx::Error> {
    fn db(self) -> StoreResult<T> {
        self.map_err(db_error)
    }
}

/// Typed reads of one row's columns by name.
pub(crate) trait Columns {
    /// The column as `T`; a missing column or a value of another type names the column.
    fn col<'r, T: Decode<'r, Any> + Type<Any>>(&'r self, name: &str) -> StoreResult<T>;

    /// A 0/1 integer column as a bool (SQLite has no boolean type).
    fn flag(&self, name: &str) -> StoreResult<bool> {
        Ok(self.col::<i64>(name)? != 0)
    }

    /// A time column (Unix seconds).
    fn time(&self, name: &str) -> StoreResult<OffsetDateTime> {
        stored_time(self.col(name)?, name)
    }

    /// A time column that may be NULL.
    fn opt_time(&self, name: &str) -> StoreResult<Option<OffsetDateTime>> {
        self.col::<Option<i64>>(name)?
            .map(|v| stored_time(v, name))
            .transpose()
    }

    /// A text column parsed into its domain type; text `parse` does not know is a corrupt row.
    fn kind<T>(&self, name: &str, parse: impl FnOnce(&str) -> Option<T>) -> StoreResult<T> {
        let text: String = self.col(name)?;
        parse(&text).ok_or_else(|| StoreError::Corrupt(format!("unknown {name} {text:?}")))
    }
}

impl Columns for AnyRow {
    fn col<'r, T: Decode<'r, Any> + Type<Any>>(&'r self, name: &str) -> StoreResult<T> {
        self.try_get(name).db()
    }
}
