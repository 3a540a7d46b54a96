//! Test databases: a fresh SQLite file or a fresh PostgreSQL database per test, removed when
//! the `TestDb` is dropped (also when the test panics). PostgreSQL comes from the admin URL in
//! `NUMBERPOOL_TEST_PG_URL`, which `scripts/test` provides; without it the PostgreSQL tests fail
//! with a message saying so, rather than skipping.

use crate::{Store, StoreOptions};

/// Environment variable naming the PostgreSQL admin URL for tests.
pub const PG_URL_VAR: &str = "NUMBERPOOL_TEST_PG_URL";

enum Kind {
    Sqlite(#[allow(dead_code)] tempfile::TempDir),
    Postgres { admin_url: String, name: String },
}

/// One isolated database.
pub struct TestDb {
    pub url: String,
    kind: Kind,
}

impl TestDb {
    pub fn sqlite() -> TestDb {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("cannot create a temp dir: {e}"));
        let url = format!("sqlite://{}", dir.path().join("test.db").display());
        TestDb {
            url,
            kind: Kind::Sqlite(dir),
        }
    }

    pub async fn postgres() -> TestDb {
        let admin_url = std::env::var(PG_URL_VAR).unwrap_or_else(|_| {
            panic!("{PG_URL_VAR} is not set: run the tests with scripts/test, which provides a PostgreSQL, or set it to an admin URL such as postgres://postgres@127.0.0.1:5432/postgres")
        });
        let name = format!("np_test_{}", uuid::Uuid::now_v7().simple());
        let admin = sqlx::PgPool::connect(&admin_url)
            .await
            .unwrap_or_else(|e| panic!("cannot connect to {PG_URL_VAR}: {e}"));
        sqlx::query(&format!("CREATE DATABASE {name}"))
            .execute(&admin)
            .await
            .unwrap_or_else(|e| panic!("cannot create test database: {e}"));
        admin.close().await;
        let url = with_database(&admin_url, &name);
        TestDb {
            url,
            kind: Kind::Postgres { admin_url, name },
        }
    }

    /// A database of the named backend: `"sqlite"` or `"postgres"`.
    pub async fn new(backend: &str) -> TestDb {
        match backend {
            "sqlite" => Self::sqlite(),
            "postgres" => Self::postgres().await,
            other => panic!("unknown backend {other}"),
        }
    }

    /// A migrated store on this database.
    pub async fn store(&self) -> Store {
        let opts = StoreOptions {
            max_connections: 16,
            ..Default::default()
        };
        let store = Store::connect(&self.url, &opts)
            .await
            .unwrap_or_else(|e| panic!("connect: {e}"));
        store
            .migrate()
            .await
            .unwrap_or_else(|e| panic!("migrate: {e}"));
        store
    }
}

/// Replaces the database name (the path) of a PostgreSQL URL, keeping any query string.
fn with_database(url: &str, db: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let scheme_end = base.find("://").map(|i| i + 3).unwrap_or(0);
    let host_end = base[scheme_end..]
        .find('/')
        .map(|i| scheme_end + i)
        .unwrap_or(base.len());
    let mut out = format!("{}/{db}", &base[..host_end]);
    if let Some(q) = query {
        out.push('?');
        out.push_str(q);
    }
    out
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Kind::Postgres { admin_url, name } = &self.kind {
            let (admin_url, name) = (admin_url.clone(), name.clone());
            // Drop runs outside async context; a short-lived runtime on its own thread does
            // the cleanup so that it also happens when the test panicked.
            let handle = std::thread::spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build();
                if let Ok(rt) = rt {
                    rt.block_on(async {
                        if let Ok(admin) = sqlx::PgPool::connect(&admin_url).await {
                            let _ = sqlx::query(&format!(
                                "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
                            ))
                            .execute(&admin)
                            .await;
                            admin.close().await;
                        }
                    });
                }
            });
            let _ = handle.join();
        }
    }
}

/// Generates one `#[tokio::test]` per backend for an `async fn(Store)` (or `async fn(&TestDb)`
/// with the `db` form): `backend_tests!(my_case)` makes `my_case::sqlite` and `my_case::postgres`.
#[macro_export]
macro_rules! backend_tests {
    ($($case:ident),+ $(,)?) => {
        $(
            mod $case {
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn sqlite() {
                    let db = $crate::testing::TestDb::sqlite();
                    super::$case(&db).await;
                }
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn postgres() {
                    let db = $crate::testing::TestDb::postgres().await;
                    super::$case(&db).await;
                }
            }
        )+
    };
}

#[cfg(test)]
mod tests {
    #[test]
    fn replaces_the_database_name() {
        assert_eq!(
            super::with_database("postgres://u@h:5432/postgres", "x"),
            "postgres://u@h:5432/x"
        );
        assert_eq!(
            super::with_database("postgres://u@h/postgres?sslmode=disable", "x"),
            "postgres://u@h/x?sslmode=disable"
        );
        assert_eq!(
            super::with_database("postgres://u@h", "x"),
            "postgres://u@h/x"
        );
    }
}
