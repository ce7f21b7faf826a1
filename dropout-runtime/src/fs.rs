//! Writing a file whole or not at all: every file this crate saves (parameters, explorer pages)
//! goes through [`write_atomically`].

use std::format;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Write as _};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use crate::Error;

/// How many names beside the target are tried before giving up: each is refused only if a file
/// (or a link) of that name exists already.
const ATTEMPTS: u64 = 64;

/// Writes `bytes` to a new file beside `path`, syncs it, then renames it over `path`: readers
/// see the old file or the new one, never a part of either.
///
/// The temporary file is created exclusively (`O_CREAT | O_EXCL`): a file or a symbolic link
/// planted under its name is refused, never followed or overwritten. On any error it is
/// removed and `path` is untouched. The new file keeps the permissions of the file it
/// replaces; a new name gets the process's default (0666 less the umask), as `File::create`
/// would give it.
pub(crate) fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), Error> {
    let fail = |err: io::Error| Error::io(path, err);
    let existing = fs::metadata(path).ok().map(|meta| meta.permissions());
    let (partial, mut file) = create_beside(path).map_err(fail)?;
    let written = file
        .write_all(bytes)
        .and_then(|()| match existing {
            Some(permissions) => file.set_permissions(permissions),
            None => Ok(()),
        })
        .and_then(|()| file.sync_all())
        .and_then(|()| {
            drop(file);
            fs::rename(&partial, path)
        });
    if let Err(err) = written {
        let _ = fs::remove_file(&partial);
        return Err(fail(err));
    }
    Ok(())
}

/// A new, exclusively created file in `path`'s directory, named after it.
fn create_beside(path: &Path) -> io::Result<(PathBuf, File)> {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    let name = path.file_name().ok_or_else(|| {
        io::Error::new(io::ErrorKind::InvalidInput, "the path does not name a file")
    })?;
    create_first_free((0..ATTEMPTS).map(|_| {
        let mut partial = std::ffi::OsString::from(".");
        partial.push(name);
        partial.push(format!(
            ".{}.{}.partial",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        ));
        dir.join(partial)
    }))
}

/// Creates the first of `names` that does not exist yet.
fn create_first_free(names: impl Iterator<Item = PathBuf>) -> io::Result<(PathBuf, File)> {
    for partial in names {
        match OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&partial)
        {
            Ok(file) => return Ok((partial, file)),
            Err(err) if err.kind() == io::ErrorKind::AlreadyExists => {}
            Err(err) => return Err(err),
        }
    }
    Err(io::Error::new(
        io::ErrorKind::AlreadyExists,
        format!("{ATTEMPTS} temporary names beside the file were all taken"),
    ))
}

#[cfg(all(test, unix))]
mod tests {
    use std::os::unix::fs::PermissionsExt as _;

    use super::write_atomically;

    fn mode(path: &std::path::Path) -> u32 {
        std::fs::metadata(path).unwrap().permissions().mode() & 0o777
    }

    #[test]
    fn a_replaced_file_keeps_its_mode_and_a_new_one_honours_the_umask() {
        let dir = tempfile::tempdir().unwrap();
        let kept = dir.path().join("kept");
        std::fs::write(&kept, b"old").unwrap();
        std::fs::set_permissions(&kept, std::fs::Permissions::from_mode(0o640)).unwrap();
        write_atomically(&kept, b"new").unwrap();
        assert_eq!(std::fs::read(&kept).unwrap(), b"new");
        assert_eq!(mode(&kept), 0o640);

        // A file `File::create` makes has the mode the umask allows; so must a new save.
        let created = dir.path().join("created");
        std::fs::File::create(&created).unwrap();
        let fresh = dir.path().join("fresh");
        write_atomically(&fresh, b"new").unwrap();
        assert_eq!(mode(&fresh), mode(&created));
        assert_ne!(
            mode(&fresh),
            0o600,
            "the umask of the test process is 0077?"
        );
        // Nothing but the two targets and the reference file is left in the directory.
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 3);
    }

    #[test]
    fn a_link_planted_at_a_temporary_name_is_not_followed() {
        let dir = tempfile::tempdir().unwrap();
        let victim = dir.path().join("victim");
        std::fs::write(&victim, b"precious").unwrap();
        let names: Vec<_> = (0..3)
            .map(|n| dir.path().join(format!("partial{n}")))
            .collect();
        std::os::unix::fs::symlink(&victim, &names[0]).unwrap();
        std::os::unix::fs::symlink(dir.path().join("nowhere"), &names[1]).unwrap();
        let (taken, mut file) = super::create_first_free(names.iter().cloned()).unwrap();
        assert_eq!(taken, names[2]);
        std::io::Write::write_all(&mut file, b"page").unwrap();
        assert_eq!(std::fs::read(&victim).unwrap(), b"precious");
        assert!(
            !dir.path().join("nowhere").exists(),
            "a dangling link was followed"
        );
        // Every name taken: an error, and nothing written anywhere.
        let err = super::create_first_free(names[..2].iter().cloned()).unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::AlreadyExists);
        assert_eq!(std::fs::read(&victim).unwrap(), b"precious");
    }
}
