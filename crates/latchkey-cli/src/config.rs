//! Saved connection profiles: `profiles.json` in the configuration directory
//! (`$LATCHKEY_CONFIG_DIR`, else `$XDG_CONFIG_HOME/latchkey`, else `~/.config/latchkey`),
//! written with mode 0600 because it holds API tokens. Flags and `LATCHKEY_URL` /
//! `LATCHKEY_TOKEN` override a profile field by field.

use std::collections::BTreeMap;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use serde::{Deserialize, Serialize};

/// The profile used when none is named.
pub const DEFAULT_PROFILE: &str = "default";

const FILE_NAME: &str = "profiles.json";

#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Profile {
    pub url: String,
    pub token: String,
}

impl std::fmt::Debug for Profile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Profile")
            .field("url", &self.url)
            .finish_non_exhaustive()
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProfileFile {
    #[serde(default)]
    pub profiles: BTreeMap<String, Profile>,
}

/// The configuration directory, from the environment as seen through `var`.
pub fn config_dir(var: impl Fn(&str) -> Option<String>) -> Option<PathBuf> {
    let set = |name: &str| var(name).filter(|v| !v.is_empty());
    if let Some(dir) = set("LATCHKEY_CONFIG_DIR") {
        return Some(PathBuf::from(dir));
    }
    if let Some(dir) = set("XDG_CONFIG_HOME") {
        return Some(Path::new(&dir).join("latchkey"));
    }
    set("HOME").map(|home| Path::new(&home).join(".config").join("latchkey"))
}

/// The configuration directory of this process's environment.
pub fn default_config_dir() -> anyhow::Result<PathBuf> {
    config_dir(|name| std::env::var(name).ok())
        .context("cannot tell where to keep profiles: set LATCHKEY_CONFIG_DIR or HOME")
}

pub fn profiles_path(dir: &Path) -> PathBuf {
    dir.join(FILE_NAME)
}

/// The saved profiles; none when the file does not exist yet.
pub fn load(dir: &Path) -> anyhow::Result<ProfileFile> {
    let path = profiles_path(dir);
    match fs::read_to_string(&path) {
        Ok(text) => serde_json::from_str(&text)
            .with_context(|| format!("`{}` is not a valid profile file", path.display())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(ProfileFile::default()),
        Err(e) => Err(e).with_context(|| format!("cannot read `{}`", path.display())),
    }
}

/// Adds or replaces the profile `name` and writes the file (mode 0600, replaced atomically).
/// Returns the file's path.
pub fn save_profile(dir: &Path, name: &str, profile: Profile) -> anyhow::Result<PathBuf> {
    let mut file = load(dir)?;
    file.profiles.insert(name.to_owned(), profile);
    create_private_dir(dir)?;
    let path = profiles_path(dir);
    let tmp = dir.join(format!("{FILE_NAME}.tmp"));
    let text = serde_json::to_string_pretty(&file).context("cannot encode the profiles")?;
    write_private(&tmp, text.as_bytes())
        .with_context(|| format!("cannot write `{}`", tmp.display()))?;
    fs::rename(&tmp, &path).with_context(|| format!("cannot write `{}`", path.display()))?;
    Ok(path)
}

/// Where to connect: each of URL and token from its flag or variable if given, else from the
/// profile (`name`, or `default`).
pub fn resolve(
    url: Option<&str>,
    token: Option<&str>,
    name: Option<&str>,
    file: &ProfileFile,
) -> anyhow::Result<Profile> {
    let name_given = name.is_some();
    let name = name.unwrap_or(DEFAULT_PROFILE);
    let saved = file.profiles.get(name);
    if saved.is_none() && name_given {
        bail!("no profile `{name}`: run `latchkey login --profile {name} --url URL --token TOKEN`");
    }
    let url = url
        .map(str::to_owned)
        .or_else(|| saved.map(|p| p.url.clone()));
    let token = token
        .map(str::to_owned)
        .or_else(|| saved.map(|p| p.token.clone()));
    match (url, token) {
        (Some(url), Some(token)) => Ok(Profile { url, token }),
        _ => bail!(
            "not logged in: run `latchkey login --url URL --token TOKEN`, or set LATCHKEY_URL and LATCHKEY_TOKEN"
        ),
    }
}

#[cfg(unix)]
fn create_private_dir(dir: &Path) -> anyhow::Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .with_context(|| format!("cannot create `{}`", dir.display()))
}

#[cfg(not(unix))]
fn create_private_dir(dir: &Path) -> anyhow::Result<()> {
    fs::create_dir_all(dir).with_context(|| format!("cannot create `{}`", dir.display()))
}

fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut options = fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
        options.mode(0o600);
        let mut file = options.open(path)?;
        // The mode applies on creation only: tighten a file left by an earlier run too.
        file.set_permissions(fs::Permissions::from_mode(0o600))?;
        file.write_all(bytes)?;
        file.sync_all()
    }
    #[cfg(not(unix))]
    {
        let mut file = options.open(path)?;
        file.write_all(bytes)?;
        file.sync_all()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A fresh directory under the system's temporary directory, removed on drop.
    struct TempDir(PathBuf);

    impl TempDir {
        fn new(tag: &str) -> Self {
            let nanos = std::time::SystemTime::UNIX_EPOCH
                .elapsed()
                .unwrap()
                .as_nanos();
            let dir = std::env::temp_dir()
                .join(format!("latchkey-cli-{tag}-{}-{nanos}", std::process::id()));
            fs::create_dir_all(&dir).unwrap();
            Self(dir)
        }
    }

    impl Drop for TempDir {
        fn drop(&mut self) {
            let _ = fs::remove_dir_all(&self.0);
        }
    }

    fn profile(url: &str, token: &str) -> Profile {
        Profile {
            url: url.to_owned(),
            token: token.to_owned(),
        }
    }

    #[test]
    fn the_directory_follows_the_environment() {
        let env = |pairs: &'static [(&'static str, &'static str)]| {
            move |name: &str| {
                pairs
                    .iter()
                    .find(|(n, _)| *n == name)
                    .map(|(_, v)| (*v).to_owned())
            }
        };
        assert_eq!(
            config_dir(env(&[
                ("LATCHKEY_CONFIG_DIR", "/c"),
                ("XDG_CONFIG_HOME", "/x"),
                ("HOME", "/h")
            ])),
            Some(PathBuf::from("/c"))
        );
        assert_eq!(
            config_dir(env(&[("XDG_CONFIG_HOME", "/x"), ("HOME", "/h")])),
            Some(PathBuf::from("/x/latchkey"))
        );
        assert_eq!(
            config_dir(env(&[("XDG_CONFIG_HOME", ""), ("HOME", "/h")])),
            Some(PathBuf::from("/h/.config/latchkey"))
        );
        assert_eq!(config_dir(env(&[])), None);
    }

    #[test]
    fn profiles_are_saved_privately_and_loaded_back() {
        let tmp = TempDir::new("profiles");
        let dir = tmp.0.join("nested").join("latchkey");
        assert_eq!(load(&dir).unwrap(), ProfileFile::default());

        let path = save_profile(&dir, "default", profile("http://a:1", "lk_a")).unwrap();
        save_profile(&dir, "staging", profile("http://b:2", "lk_b")).unwrap();
        save_profile(&dir, "default", profile("http://a:3", "lk_c")).unwrap();

        let file = load(&dir).unwrap();
        assert_eq!(file.profiles.len(), 2);
        assert_eq!(file.profiles["default"], profile("http://a:3", "lk_c"));
        assert_eq!(file.profiles["staging"], profile("http://b:2", "lk_b"));
        assert!(!dir.join("profiles.json.tmp").exists());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(
                fs::metadata(&path).unwrap().permissions().mode() & 0o777,
                0o600
            );
            assert_eq!(
                fs::metadata(&dir).unwrap().permissions().mode() & 0o777,
                0o700
            );
        }
    }

    #[test]
    fn a_corrupt_file_is_reported() {
        let tmp = TempDir::new("corrupt");
        fs::write(profiles_path(&tmp.0), "{not json").unwrap();
        let err = load(&tmp.0).unwrap_err();
        assert!(
            err.to_string().contains("is not a valid profile file"),
            "{err}"
        );
    }

    #[test]
    fn flags_override_the_profile_field_by_field() {
        let mut file = ProfileFile::default();
        file.profiles
            .insert("default".into(), profile("http://a", "lk_a"));
        file.profiles
            .insert("prod".into(), profile("http://p", "lk_p"));

        assert_eq!(
            resolve(None, None, None, &file).unwrap(),
            profile("http://a", "lk_a")
        );
        assert_eq!(
            resolve(None, None, Some("prod"), &file).unwrap(),
            profile("http://p", "lk_p")
        );
        assert_eq!(
            resolve(Some("http://o"), None, None, &file).unwrap(),
            profile("http://o", "lk_a")
        );
        assert_eq!(
            resolve(None, Some("lk_o"), Some("prod"), &file).unwrap(),
            profile("http://p", "lk_o")
        );
        assert!(
            resolve(None, None, Some("nope"), &file)
                .unwrap_err()
                .to_string()
                .contains("no profile `nope`")
        );

        let empty = ProfileFile::default();
        assert_eq!(
            resolve(Some("http://o"), Some("t"), None, &empty).unwrap(),
            profile("http://o", "t")
        );
        assert!(
            resolve(Some("http://o"), None, None, &empty)
                .unwrap_err()
                .to_string()
                .contains("not logged in")
        );
    }
}
