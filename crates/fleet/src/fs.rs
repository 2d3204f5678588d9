//! An instance's simulated file system: directories and files with bytes,
//! mode, owner and group. Just enough of POSIX and Windows path rules for the
//! agent's checks: absolute paths, `MkdirAll`, "a directory counts as
//! existing", case-insensitive Windows names.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::spec::OsType;

/// One path's content.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Node {
    Dir,
    File(FileData),
}

/// A regular file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileData {
    #[serde(with = "base64_bytes")]
    pub bytes: Vec<u8>,
    /// Four octal digits, `0644`.
    pub mode: String,
    pub owner: String,
    pub group: String,
}

/// Whether `mode` is a file mode as `ls` would show it: three or four octal
/// digits (`644`, `0644`).
pub fn is_octal_mode(mode: &str) -> bool {
    (3..=4).contains(&mode.len()) && mode.bytes().all(|b| (b'0'..=b'7').contains(&b))
}

/// The directory part of a normalised key.
pub fn parent_of(key: &str, os: OsType) -> String {
    let (separator, root) = match os {
        OsType::Linux => ('/', 1),
        OsType::Windows => ('\\', 3),
    };
    match key.rfind(separator) {
        Some(index) if index >= root => key[..index].to_owned(),
        _ => key[..root.min(key.len())].to_owned(),
    }
}

/// Why a directory could not be created.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MkdirError {
    /// The path is not absolute for this OS.
    NotAbsolute,
    /// A component exists as a regular file.
    NotADirectory,
}

/// The paths of one instance, keyed by their normalised form.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileSystem {
    os: OsType,
    nodes: BTreeMap<String, Node>,
}

impl FileSystem {
    /// A fresh system with the directories every image has.
    pub fn new(os: OsType) -> FileSystem {
        let mut fs = FileSystem {
            os,
            nodes: BTreeMap::new(),
        };
        let base: &[&str] = match os {
            OsType::Linux => &[
                "/", "/root", "/tmp", "/etc", "/home", "/opt", "/usr", "/var",
            ],
            OsType::Windows => &["C:\\", "C:\\Windows", "C:\\Users", "C:\\ProgramData"],
        };
        for dir in base {
            // The base list is absolute by construction.
            let _ = fs.mkdir_all(dir);
        }
        fs
    }

    /// The normalised key of `path`, or `None` when it is not absolute.
    ///
    /// Linux: `path.Join` semantics (`//`, `.` and `..` resolved, `..` at the
    /// root stays at the root). Windows: `C:\dir` or `C:/dir`, compared
    /// without regard to letter case.
    pub fn normalise(&self, path: &str) -> Option<String> {
        match self.os {
            OsType::Linux => {
                if !path.starts_with('/') {
                    return None;
                }
                let mut parts: Vec<&str> = Vec::new();
                for part in path.split('/') {
                    match part {
                        "" | "." => {}
                        ".." => {
                            parts.pop();
                        }
                        part => parts.push(part),
                    }
                }
                Some(format!("/{}", parts.join("/")))
            }
            OsType::Windows => {
                let bytes = path.as_bytes();
                let drive_ok = bytes.len() >= 3
                    && bytes[0].is_ascii_alphabetic()
                    && bytes[1] == b':'
                    && (bytes[2] == b'\\' || bytes[2] == b'/');
                if !drive_ok {
                    return None;
                }
                let mut parts: Vec<String> = Vec::new();
                for part in path[3..].split(['\\', '/']) {
                    match part {
                        "" | "." => {}
                        ".." => {
                            parts.pop();
                        }
                        part => parts.push(part.to_lowercase()),
                    }
                }
                let drive = path[..1].to_lowercase();
                Some(format!("{drive}:\\{}", parts.join("\\")))
            }
        }
    }

    /// `dir` joined with `name`, normalised.
    pub fn join(&self, dir: &str, name: &str) -> Option<String> {
        let separator = match self.os {
            OsType::Linux => "/",
            OsType::Windows => "\\",
        };
        self.normalise(&format!("{dir}{separator}{name}"))
    }

    fn parent_keys(&self, key: &str) -> Vec<String> {
        let separator = match self.os {
            OsType::Linux => '/',
            OsType::Windows => '\\',
        };
        let root_len = match self.os {
            OsType::Linux => 1,
            OsType::Windows => 3,
        };
        let mut keys = vec![key[..root_len].to_owned()];
        for (index, c) in key.char_indices().skip(root_len) {
            if c == separator {
                keys.push(key[..index].to_owned());
            }
        }
        if key.len() > root_len {
            keys.push(key.to_owned());
        }
        keys
    }

    /// Creates `dir` and its missing parents, like Go's `os.MkdirAll`:
    /// directories made before a failure stay made.
    pub fn mkdir_all(&mut self, dir: &str) -> Result<String, MkdirError> {
        let key = self.normalise(dir).ok_or(MkdirError::NotAbsolute)?;
        for ancestor in self.parent_keys(&key) {
            match self.nodes.get(&ancestor) {
                Some(Node::Dir) => {}
                Some(Node::File(_)) => return Err(MkdirError::NotADirectory),
                None => {
                    self.nodes.insert(ancestor, Node::Dir);
                }
            }
        }
        Ok(key)
    }

    pub fn get(&self, path: &str) -> Option<&Node> {
        self.nodes.get(&self.normalise(path)?)
    }

    /// Writes a regular file at a normalised `key` whose parent exists.
    pub fn write(&mut self, key: String, data: FileData) {
        self.nodes.insert(key, Node::File(data));
    }

    /// Changes owner and group of the file at `key`, if it is one.
    pub fn chown(&mut self, key: &str, owner: &str, group: &str) {
        if let Some(Node::File(data)) = self.nodes.get_mut(key) {
            data.owner = owner.to_owned();
            data.group = group.to_owned();
        }
    }

    /// Removes a file, or a directory with nothing in it. Returns whether
    /// something was removed.
    pub fn remove(&mut self, path: &str) -> bool {
        let Some(key) = self.normalise(path) else {
            return false;
        };
        let separator = match self.os {
            OsType::Linux => "/",
            OsType::Windows => "\\",
        };
        let prefix = if key.ends_with(separator) {
            key.clone()
        } else {
            format!("{key}{separator}")
        };
        let has_children = self
            .nodes
            .range(prefix.clone()..)
            .next()
            .is_some_and(|(k, _)| k.starts_with(&prefix));
        if has_children {
            return false;
        }
        self.nodes.remove(&key).is_some()
    }
}

mod base64_bytes {
    //! File bytes as Base64 text in exported state, so binary content
    //! survives JSON.

    use base64::Engine as _;
    use base64::engine::general_purpose::STANDARD;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(bytes: &[u8], serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&STANDARD.encode(bytes))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<u8>, D::Error> {
        let text = String::deserialize(deserializer)?;
        STANDARD.decode(text).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file() -> FileData {
        FileData {
            bytes: b"x".to_vec(),
            mode: "0644".into(),
            owner: "root".into(),
            group: "root".into(),
        }
    }

    #[test]
    fn parents() {
        assert_eq!(parent_of("/root/a.txt", OsType::Linux), "/root");
        assert_eq!(parent_of("/a.txt", OsType::Linux), "/");
        assert_eq!(parent_of("c:\\a.txt", OsType::Windows), "c:\\");
        assert_eq!(parent_of("c:\\x\\a.txt", OsType::Windows), "c:\\x");
    }

    #[test]
    fn linux_paths_normalise_like_path_join() {
        let fs = FileSystem::new(OsType::Linux);
        let cases = [
            ("/root", Some("/root")),
            ("/root/", Some("/root")),
            ("//etc/./nginx/../nginx", Some("/etc/nginx")),
            ("/..", Some("/")),
            ("root", None),
            ("", None),
        ];
        for (input, want) in cases {
            assert_eq!(fs.normalise(input).as_deref(), want, "{input}");
        }
        assert_eq!(
            fs.join("/root", "test.txt").as_deref(),
            Some("/root/test.txt")
        );
    }

    #[test]
    fn windows_paths_ignore_case_and_slash_style() {
        let fs = FileSystem::new(OsType::Windows);
        assert_eq!(fs.normalise("C:\\Temp\\A").as_deref(), Some("c:\\temp\\a"));
        assert_eq!(fs.normalise("c:/temp/a").as_deref(), Some("c:\\temp\\a"));
        assert_eq!(fs.normalise("/tmp"), None);
        assert_eq!(fs.normalise("C:"), None);
    }

    #[test]
    fn mkdir_all_creates_parents_and_stops_at_a_file() {
        let mut fs = FileSystem::new(OsType::Linux);
        assert_eq!(
            fs.mkdir_all("/srv/app/conf"),
            Ok("/srv/app/conf".to_owned())
        );
        assert_eq!(fs.get("/srv/app"), Some(&Node::Dir));
        fs.write("/srv/app/conf/file".into(), file());
        assert_eq!(
            fs.mkdir_all("/srv/app/conf/file/sub"),
            Err(MkdirError::NotADirectory)
        );
        assert_eq!(fs.mkdir_all("relative"), Err(MkdirError::NotAbsolute));
    }

    #[test]
    fn remove_keeps_directories_that_hold_something() {
        let mut fs = FileSystem::new(OsType::Linux);
        fs.mkdir_all("/srv/a").unwrap();
        fs.write("/srv/a/f".into(), file());
        assert!(!fs.remove("/srv/a"));
        assert!(fs.remove("/srv/a/f"));
        assert!(fs.remove("/srv/a"));
        assert_eq!(fs.get("/srv/a"), None);
    }
}
