//! The access keys the server accepts: AccessKeyId → AccessKeySecret, read
//! from a `--access-keys ID:SECRET[,ID:SECRET…]` flag, the
//! `CASIM_ACCESS_KEYS` variable (same form) or a file with one `ID:SECRET`
//! per line. Secrets never appear in `Debug` output or error messages.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;

/// AccessKeyId → secret.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct AccessKeys {
    secrets: BTreeMap<String, String>,
}

impl AccessKeys {
    /// No keys: every signed request is `InvalidAccessKeyId.NotFound`.
    pub fn new() -> AccessKeys {
        AccessKeys::default()
    }

    /// Adds a key, replacing the secret of an id already known.
    pub fn insert(&mut self, id: impl Into<String>, secret: impl Into<String>) {
        self.secrets.insert(id.into(), secret.into());
    }

    /// Adds every key of `other`; `other` wins for an id both know.
    pub fn extend(&mut self, other: AccessKeys) {
        self.secrets.extend(other.secrets);
    }

    pub fn secret(&self, id: &str) -> Option<&str> {
        self.secrets.get(id).map(String::as_str)
    }

    pub fn contains(&self, id: &str) -> bool {
        self.secrets.contains_key(id)
    }

    /// The ids, sorted; safe to log.
    pub fn ids(&self) -> impl Iterator<Item = &str> {
        self.secrets.keys().map(String::as_str)
    }

    pub fn len(&self) -> usize {
        self.secrets.len()
    }

    pub fn is_empty(&self) -> bool {
        self.secrets.is_empty()
    }

    /// Reads the text form `ID:SECRET[,ID:SECRET…]`. Blank entries are
    /// skipped, so an empty text gives no keys.
    pub fn parse(text: &str) -> Result<AccessKeys, AccessKeyError> {
        let mut keys = AccessKeys::new();
        for (index, entry) in text.split(',').enumerate() {
            keys.add_entry(entry)
                .map_err(|problem| AccessKeyError::Invalid {
                    place: format!("access key entry {}", index + 1),
                    problem,
                })?;
        }
        Ok(keys)
    }

    /// Reads a file of `ID:SECRET` lines; blank lines and lines starting
    /// with `#` are skipped.
    pub fn from_file(path: impl AsRef<Path>) -> Result<AccessKeys, AccessKeyError> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|source| AccessKeyError::Read {
            path: path.to_owned(),
            source,
        })?;
        let mut keys = AccessKeys::new();
        for (index, line) in text.lines().enumerate() {
            if line.trim_start().starts_with('#') {
                continue;
            }
            keys.add_entry(line)
                .map_err(|problem| AccessKeyError::Invalid {
                    place: format!("{}:{}", path.display(), index + 1),
                    problem,
                })?;
        }
        Ok(keys)
    }

    /// One `ID:SECRET`. Whitespace around the id and the secret is dropped:
    /// it is always a copy-and-paste slip, and a secret that silently
    /// carried it would fail every signature.
    fn add_entry(&mut self, entry: &str) -> Result<(), KeyProblem> {
        if entry.trim().is_empty() {
            return Ok(());
        }
        // Split at the first colon: ids never hold one, secrets might.
        let (id, secret) = entry.split_once(':').ok_or(KeyProblem::NoColon)?;
        let (id, secret) = (id.trim(), secret.trim());
        if id.is_empty() {
            return Err(KeyProblem::EmptyId);
        }
        // Not echoed: a malformed id may be a secret pasted in the wrong place.
        if !id.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(KeyProblem::BadId);
        }
        if secret.is_empty() {
            return Err(KeyProblem::EmptySecret(id.to_owned()));
        }
        if self.contains(id) {
            return Err(KeyProblem::Duplicate(id.to_owned()));
        }
        self.insert(id, secret);
        Ok(())
    }
}

impl FromStr for AccessKeys {
    type Err = AccessKeyError;

    fn from_str(text: &str) -> Result<AccessKeys, AccessKeyError> {
        AccessKeys::parse(text)
    }
}

impl<K: Into<String>, V: Into<String>> FromIterator<(K, V)> for AccessKeys {
    fn from_iter<I: IntoIterator<Item = (K, V)>>(pairs: I) -> AccessKeys {
        let mut keys = AccessKeys::new();
        for (id, secret) in pairs {
            keys.insert(id, secret);
        }
        keys
    }
}

/// Shows the ids only.
impl fmt::Debug for AccessKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AccessKeys")
            .field("ids", &self.secrets.keys().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

/// Why access keys could not be read. The message names the place (entry
/// number, or file and line) and never contains a secret.
#[derive(Debug, thiserror::Error)]
pub enum AccessKeyError {
    #[error("cannot read access key file {}: {source}", path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{place}: {problem}")]
    Invalid { place: String, problem: KeyProblem },
}

/// What is wrong with one `ID:SECRET` entry.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyProblem {
    #[error("expected `ID:SECRET`, but there is no `:`")]
    NoColon,
    #[error("the access key id before `:` is empty")]
    EmptyId,
    #[error("the access key id must be printable ASCII without spaces")]
    BadId,
    #[error("access key `{0}` has an empty secret after `:`")]
    EmptySecret(String),
    #[error("access key `{0}` is given twice; keep one of them")]
    Duplicate(String),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_form_reads_pairs_and_keeps_colons_in_secrets() {
        let keys = AccessKeys::parse(" testid:testsecret , other:a:b,").expect("valid");
        assert_eq!(keys.secret("testid"), Some("testsecret"));
        assert_eq!(keys.secret("other"), Some("a:b"));
        assert_eq!(keys.len(), 2);
        assert!(AccessKeys::parse("").expect("valid").is_empty());
    }

    #[test]
    fn errors_name_the_entry_and_never_the_secret() {
        for (text, want) in [
            (
                "a:b,hunter2",
                "access key entry 2: expected `ID:SECRET`, but there is no `:`",
            ),
            (
                ":hunter2",
                "access key entry 1: the access key id before `:` is empty",
            ),
            (
                "my id:hunter2",
                "access key entry 1: the access key id must be printable ASCII without spaces",
            ),
            (
                "a:",
                "access key entry 1: access key `a` has an empty secret after `:`",
            ),
            (
                "a:hunter2,a:hunter3",
                "access key entry 2: access key `a` is given twice; keep one of them",
            ),
        ] {
            let error = AccessKeys::parse(text).expect_err(text).to_string();
            assert_eq!(error, want);
            assert!(!error.contains("hunter"), "{error}");
        }
    }

    #[test]
    fn debug_shows_ids_only() {
        let keys: AccessKeys = [("testid", "testsecret")].into_iter().collect();
        let shown = format!("{keys:?}");
        assert!(shown.contains("testid"), "{shown}");
        assert!(!shown.contains("testsecret"), "{shown}");
    }

    #[test]
    fn files_skip_comments_and_name_the_line() {
        let dir = std::env::temp_dir().join(format!("casim-keys-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let good = dir.join("good.keys");
        std::fs::write(&good, "# ours\n\ntestid:testsecret\n  # indented\nb:c\n").expect("write");
        let keys = AccessKeys::from_file(&good).expect("valid");
        assert_eq!(keys.ids().collect::<Vec<_>>(), ["b", "testid"]);

        let bad = dir.join("bad.keys");
        std::fs::write(&bad, "testid:testsecret\nhunter2\n").expect("write");
        let error = AccessKeys::from_file(&bad).expect_err("line 2").to_string();
        assert_eq!(
            error,
            format!(
                "{}:2: expected `ID:SECRET`, but there is no `:`",
                bad.display()
            )
        );

        let missing = dir.join("missing.keys");
        let error = AccessKeys::from_file(&missing)
            .expect_err("absent")
            .to_string();
        assert!(error.starts_with(&format!(
            "cannot read access key file {}",
            missing.display()
        )));
        std::fs::remove_dir_all(&dir).expect("clean up");
    }
}
