//! Where `serve` finds the master key that secrets at rest (TOTP secrets) are sealed under:
//! the configuration's `master_key` (base64, also `LATCHKEY_MASTER_KEY`), else the file
//! `DATA_DIR/master.key`, made on the first start readable by its owner only. The path is
//! logged, the key never.
//!
//! Servers sharing one PostgreSQL database must share the key: each opens what the others
//! sealed. Give them the same `master_key`, or the same file.

use std::io::Write as _;
use std::path::Path;

use anyhow::Context as _;
use latchkey_service::MasterKey;

use crate::config::Config;

const FILE: &str = "master.key";

pub fn load(config: &Config) -> anyhow::Result<MasterKey> {
    if let Some(text) = &config.master_key {
        let key = MasterKey::from_base64(&text.0)
            .map_err(|e| anyhow::anyhow!("invalid configuration: `master_key`: {e}"))?;
        tracing::info!("master key taken from the configuration");
        return Ok(key);
    }
    let path = config.data_dir.join(FILE);
    let shared = config
        .database_url
        .as_deref()
        .is_some_and(|u| u.starts_with("postgres"));
    let key = match read(&path)? {
        Some(key) => {
            tracing::info!(path = %path.display(), "master key read from its file");
            key
        }
        None => {
            let key = create(&config.data_dir, &path)?;
            tracing::info!(path = %path.display(), "master key made and written to its file (readable by its owner only)");
            key
        }
    };
    if shared {
        tracing::warn!(
            path = %path.display(),
            "every server sharing this database needs this same master key: copy the file or set `master_key`"
        );
    }
    Ok(key)
}

fn read(path: &Path) -> anyhow::Result<Option<MasterKey>> {
    match std::fs::read_to_string(path) {
        Ok(text) => MasterKey::from_base64(&text)
            .map(Some)
            .map_err(|e| anyhow::anyhow!("`{}`: {e}", path.display())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e).with_context(|| format!("could not read `{}`", path.display())),
    }
}

/// Writes a new key, unless another server starting at the same moment just did: then
/// that one is used.
fn create(dir: &Path, path: &Path) -> anyhow::Result<MasterKey> {
    std::fs::create_dir_all(dir)
        .with_context(|| format!("could not create `{}`", dir.display()))?;
    let key = MasterKey::generate();
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    match options.open(path) {
        Ok(mut file) => {
            writeln!(file, "{}", key.to_base64())
                .and_then(|()| file.sync_all())
                .with_context(|| format!("could not write `{}`", path.display()))?;
            Ok(key)
        }
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            read(path)?.with_context(|| format!("`{}` vanished while it was read", path.display()))
        }
        Err(e) => Err(e).with_context(|| format!("could not create `{}`", path.display())),
    }
}

#[cfg(test)]
mod tests {

    use super::*;

    #[test]
    fn the_key_file_is_made_once_private_and_reused() {
        let dir = std::env::temp_dir().join(format!("latchkey-master-key-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let config = Config {
            data_dir: dir.clone(),
            ..Config::default()
        };
        let first = load(&config).unwrap();
        let path = dir.join(FILE);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let again = load(&config).unwrap();
        let sealed = first.seal(b"aad", b"secret").unwrap();
        assert_eq!(again.open(b"aad", &sealed).unwrap(), b"secret");

        // The configured key wins over the file.
        let configured = MasterKey::generate();
        let config = Config {
            master_key: Some(crate::config::SecretText(configured.to_base64())),
            ..config
        };
        let used = load(&config).unwrap();
        assert!(used.open(b"aad", &sealed).is_err());
        let bad = Config {
            master_key: Some(crate::config::SecretText("c2hvcnQ=".to_owned())),
            ..config
        };
        let err = load(&bad).err().unwrap().to_string();
        assert!(
            err.contains("master_key") && !err.contains("c2hvcnQ"),
            "{err}"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
