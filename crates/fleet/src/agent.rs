//! What the Cloud Assistant agent does with a file task once it has it, in
//! the agent's own order (`agent/taskengine/sendfile.go`), side effects
//! included: the target directory is made before anything can fail later,
//! and a missing owner or group fails the task after the file is written.

use casim_model::{ErrorCode, FileSpec};

use crate::fs::parent_of;
use crate::fs::{FileData, MkdirError, Node};
use crate::instance::Instance;
use crate::spec::OsType;

/// Longest file name a Linux file system takes, in bytes.
const MAX_NAME_BYTES: usize = 255;

/// Characters Windows refuses in a file name.
const WINDOWS_FORBIDDEN: &[char] = &['\\', '/', ':', '*', '?', '"', '<', '>', '|'];

/// Runs the task on `instance`: `Ok` when the file is written with its
/// mode, owner and group, else the code the agent reports.
pub fn write_file(instance: &mut Instance, file: &FileSpec) -> Result<(), ErrorCode> {
    let os = instance.os();

    if file.name.is_empty() || !name_is_valid(&file.name, os) {
        return Err(ErrorCode::FileNameInvalid);
    }
    if file.content.is_empty() {
        return Err(ErrorCode::FileContentInvalid);
    }
    let dir = match instance.fs.mkdir_all(&file.target_dir) {
        Ok(dir) => dir,
        Err(MkdirError::NotAbsolute | MkdirError::NotADirectory) => {
            return Err(ErrorCode::FilePathInvalid);
        }
    };
    let bytes = file.bytes().ok_or(ErrorCode::FileContentInvalid)?;
    // The agent parses the mode on every OS but applies it only on Linux;
    // Windows has no chmod.
    let bits = permission_bits(&file.file_mode).ok_or(ErrorCode::FileAuthorityInvalid)?;
    let mode = match os {
        OsType::Linux => Some(bits),
        OsType::Windows => None,
    };
    let path = instance
        .fs
        .join(&dir, &file.name)
        .ok_or(ErrorCode::FileNameInvalid)?;
    match instance.fs.get(&path) {
        Some(_) if !file.overwrite => return Err(ErrorCode::FileAlreadyExists),
        // Overwriting a directory with a file fails in the write itself.
        Some(Node::Dir) => return Err(ErrorCode::FileCreateFail),
        _ => {}
    }
    if os == OsType::Linux && file.name.len() > MAX_NAME_BYTES {
        return Err(ErrorCode::FileCreateFail);
    }
    // A full disk fails the write itself (ENOSPC), before anything lands.
    if let Some(free) = instance.disk_free_bytes {
        let needed = bytes.len() as u64;
        if needed > free {
            return Err(ErrorCode::FileCreateFail);
        }
        instance.disk_free_bytes = Some(free - needed);
    }
    // A file being replaced keeps its owner until chown; a new one belongs
    // to the agent (root) until then.
    let (owner, group) = match instance.fs.get(&path) {
        Some(Node::File(old)) => (old.owner.clone(), old.group.clone()),
        _ => match os {
            OsType::Linux => ("root".to_owned(), "root".to_owned()),
            OsType::Windows => ("Administrator".to_owned(), "Administrators".to_owned()),
        },
    };
    debug_assert_eq!(parent_of(&path, os), dir);
    instance.fs.write(
        path.clone(),
        FileData {
            bytes,
            mode: mode.map_or_else(|| "0644".to_owned(), |bits| format!("{bits:04o}")),
            owner,
            group,
        },
    );

    if os == OsType::Windows {
        return Ok(());
    }
    // The agent skips chown when both are root; a missing side means root.
    let owner = if file.file_owner.is_empty() {
        "root"
    } else {
        &file.file_owner
    };
    let group = if file.file_group.is_empty() {
        "root"
    } else {
        &file.file_group
    };
    if owner == "root" && group == "root" {
        instance.fs.chown(&path, owner, group);
        return Ok(());
    }
    if !instance.users.contains(owner) {
        return Err(ErrorCode::AccountNotExists);
    }
    if !instance.groups.contains(group) {
        return Err(ErrorCode::UserGroupNotExists);
    }
    instance.fs.chown(&path, owner, group);
    Ok(())
}

fn name_is_valid(name: &str, os: OsType) -> bool {
    match os {
        OsType::Linux => !name.contains(['/', '\0']) && name != "." && name != "..",
        OsType::Windows => !name.contains(WINDOWS_FORBIDDEN) && !name.contains('\0'),
    }
}

/// The permission bits of a chmod-style mode: three or four octal digits
/// (an empty mode means `0644`). Set-uid, set-gid and sticky are dropped, as
/// the agent's `os.Chmod` with a parsed `FileMode` does.
fn permission_bits(mode: &str) -> Option<u32> {
    if mode.is_empty() {
        return Some(0o644);
    }
    if !(3..=4).contains(&mode.len()) {
        return None;
    }
    u32::from_str_radix(mode, 8).ok().map(|bits| bits & 0o777)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modes() {
        let cases = [
            ("0644", Some(0o644)),
            ("644", Some(0o644)),
            ("4755", Some(0o755)),
            ("", Some(0o644)),
            ("7", None),
            ("00644", None),
            ("0888", None),
        ];
        for (mode, want) in cases {
            assert_eq!(permission_bits(mode), want, "{mode:?}");
        }
    }

    #[test]
    fn names() {
        assert!(name_is_valid("nginx.conf", OsType::Linux));
        assert!(!name_is_valid("a/b", OsType::Linux));
        assert!(!name_is_valid("..", OsType::Linux));
        assert!(name_is_valid("a:b", OsType::Linux));
        assert!(!name_is_valid("a:b", OsType::Windows));
    }
}
