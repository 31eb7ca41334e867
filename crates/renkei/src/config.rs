//! Configuration: command line, then `RENKEI_*` environment variables, then a TOML file, then
//! defaults. Listens on 127.0.0.1 unless told otherwise.

use anyhow::{Context, Result};
use clap::Args;
use renkei_app::{App, AppConfig};
use serde::Deserialize;
use std::path::{Path, PathBuf};

/// Options every command that opens the data directory takes.
#[derive(Args, Clone, Debug)]
pub struct CommonArgs {
    /// Data directory (database, audit signing key).
    #[arg(long, env = "RENKEI_DATA_DIR", global = true)]
    pub data_dir: Option<PathBuf>,
    /// Database URL: sqlite://PATH or postgres://… (default: SQLite in the data directory).
    #[arg(long, env = "RENKEI_DATABASE_URL", global = true)]
    pub database_url: Option<String>,
    /// TOML configuration file.
    #[arg(long, env = "RENKEI_CONFIG", global = true)]
    pub config: Option<PathBuf>,
}

#[derive(Args, Clone, Debug)]
pub struct ServeArgs {
    #[command(flatten)]
    pub common: CommonArgs,
    /// Port to listen on.
    #[arg(long, env = "RENKEI_PORT")]
    pub port: Option<u16>,
    /// Address to listen on.
    #[arg(long, env = "RENKEI_BIND")]
    pub bind: Option<String>,
}

/// The configuration file's keys (all optional).
#[derive(Deserialize, Default, Debug)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    data_dir: Option<PathBuf>,
    database_url: Option<String>,
    bind: Option<String>,
    port: Option<u16>,
    idle_timeout_minutes: Option<i64>,
    break_glass_hours: Option<i64>,
    secure_cookies: Option<bool>,
}

/// Resolved settings.
#[derive(Clone, Debug)]
pub struct Settings {
    pub data_dir: PathBuf,
    pub database_url: String,
    pub bind: String,
    pub port: u16,
    pub secure_cookies: bool,
    pub app: AppConfig,
}

fn env_i64(name: &str) -> Result<Option<i64>> {
    match std::env::var(name) {
        Ok(v) => {
            Ok(Some(v.trim().parse().with_context(|| {
                format!("{name} must be a whole number")
            })?))
        }
        Err(_) => Ok(None),
    }
}

impl CommonArgs {
    pub fn settings(&self, port: Option<u16>, bind: Option<String>) -> Result<Settings> {
        let file: FileConfig = match &self.config {
            Some(path) => {
                let text = std::fs::read_to_string(path)
                    .with_context(|| format!("cannot read config file {}", path.display()))?;
                toml::from_str(&text)
                    .with_context(|| format!("invalid config file {}", path.display()))?
            }
            None => FileConfig::default(),
        };
        let data_dir = self
            .data_dir
            .clone()
            .or(file.data_dir)
            .unwrap_or_else(|| PathBuf::from("renkei-data"));
        let database_url = self
            .database_url
            .clone()
            .or(file.database_url)
            .unwrap_or_else(|| sqlite_url(&data_dir.join("renkei.db")));
        let mut app = AppConfig::new(data_dir.clone());
        if let Some(m) = env_i64("RENKEI_IDLE_TIMEOUT_MINUTES")?.or(file.idle_timeout_minutes) {
            anyhow::ensure!(m > 0, "the idle timeout must be at least one minute");
            app.idle_timeout = time::Duration::minutes(m);
        }
        if let Some(h) = env_i64("RENKEI_BREAK_GLASS_HOURS")?.or(file.break_glass_hours) {
            anyhow::ensure!(h > 0, "break-the-glass grants must last at least an hour");
            app.break_glass_lifetime = time::Duration::hours(h);
        }
        Ok(Settings {
            data_dir,
            database_url,
            bind: bind.or(file.bind).unwrap_or_else(|| "127.0.0.1".into()),
            port: port.or(file.port).unwrap_or(8080),
            secure_cookies: match std::env::var("RENKEI_SECURE_COOKIES") {
                Ok(v) => matches!(v.trim(), "1" | "true" | "yes"),
                Err(_) => file.secure_cookies.unwrap_or(false),
            },
            app,
        })
    }
}

impl ServeArgs {
    pub fn settings(&self) -> Result<Settings> {
        self.common.settings(self.port, self.bind.clone())
    }
}

pub fn sqlite_url(path: &Path) -> String {
    format!("sqlite://{}", path.display())
}

impl Settings {
    pub async fn open_app(&self) -> Result<App> {
        std::fs::create_dir_all(&self.data_dir)
            .with_context(|| format!("cannot create data directory {}", self.data_dir.display()))?;
        let store = renkei_app::Store::connect(&self.database_url)
            .await
            .context("cannot open the database")?;
        Ok(App::open(store, self.app.clone()).await?)
    }

    /// Open an existing store without creating anything (for verification).
    pub async fn open_existing_store(&self) -> Result<renkei_app::Store> {
        if let Some(path) = self.database_url.strip_prefix("sqlite://")
            && !Path::new(path).exists()
        {
            anyhow::bail!("no database at {path}: is --data-dir right?");
        }
        renkei_app::Store::connect(&self.database_url)
            .await
            .context("cannot open the database")
    }

    pub fn bind_addr(&self) -> String {
        format!("{}:{}", self.bind, self.port)
    }

    pub fn url(&self) -> String {
        let host = if self.bind == "0.0.0.0" {
            "127.0.0.1"
        } else {
            &self.bind
        };
        format!("http://{host}:{}/", self.port)
    }
}
