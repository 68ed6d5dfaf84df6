//! A PostgreSQL database of the test's own on the real server at 127.0.0.1:5432 (user
//! `postgres`, trust authentication, as `scripts/test` sets up), dropped when the guard is
//! dropped, also when the test panics.

use secrecy::SecretString;
use sqlx::{AssertSqlSafe, Connection as _, Executor as _, PgConnection};

use orderflow::config::StoreConfig;

pub const ADMIN_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";
/// Sentinel keys: base64 of 32 bytes each.
pub const KEY: &str = "c2VudGluZWwta2V5LWFhYWFhYWFhYWFhYWFhYWFhYWE=";
pub const OTHER_KEY: &str = "c2VudGluZWwta2V5LWJiYmJiYmJiYmJiYmJiYmJiYmI=";

pub struct TestDb {
    pub name: String,
    pub url: String,
}

impl TestDb {
    pub async fn create() -> TestDb {
        let name = format!("of_{}_{:08x}", std::process::id(), rand::random::<u32>());
        let mut admin = PgConnection::connect(ADMIN_URL)
            .await
            .expect("PostgreSQL answers on 127.0.0.1:5432 for user postgres (run scripts/test)");
        admin
            .execute(AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .await
            .expect("create the test database");
        let url = format!("postgres://postgres@127.0.0.1:5432/{name}");
        TestDb { name, url }
    }

    pub fn config(&self, key: &str) -> StoreConfig {
        StoreConfig {
            url: SecretString::from(self.url.clone()),
            encryption_key: SecretString::from(key.to_owned()),
        }
    }

    /// The database's URL through another address (a proxy in front of the server).
    pub fn url_through(&self, addr: std::net::SocketAddr) -> String {
        format!("postgres://postgres@{addr}/{}", self.name)
    }

    /// A plain connection to the test database, to look under the store.
    pub async fn connection(&self) -> PgConnection {
        PgConnection::connect(&self.url)
            .await
            .expect("connect to the test database")
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let name = self.name.clone();
        // Drop runs inside the test's runtime, which cannot block on itself: a thread of its
        // own with a runtime of its own drops the database (`FORCE` ends stray connections).
        let dropped = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
            runtime.block_on(async move {
                let mut admin = PgConnection::connect(ADMIN_URL).await?;
                admin
                    .execute(AssertSqlSafe(format!(
                        "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
                    )))
                    .await
                    .map(|_| ())
            })
        })
        .join();
        if let Ok(Err(e)) = dropped {
            eprintln!("could not drop test database {}: {e}", self.name);
        }
    }
}
