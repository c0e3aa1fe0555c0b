//! The real [`Env`] of a scan request: the file system, the system resolver, the
//! process's open-file limit and a fresh seed. Only this module (and the
//! writers) touch the file system for `scan`; the request's checks are tested
//! against a fake.

use std::fs::{self, OpenOptions};
use std::io;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use portolan_probe::Database;
use portolan_target::{Resolver, SystemResolver};

use crate::exit::usage;
use crate::request::{Env, FileKey};

/// The world as it is.
pub struct SystemEnv {
    pub file_limit: u64,
}

impl Env for SystemEnv {
    /// Within the caps of `portolan_target::file` (size, line length), stdin too.
    fn read_text(&self, path: &Path) -> io::Result<String> {
        let limits = portolan_target::file::Limits::DEFAULT;
        let text = if path == Path::new("-") {
            portolan_target::file::read_bounded(io::stdin().lock(), path, limits)
        } else {
            portolan_target::file::read_list(path)
        };
        text.map_err(io::Error::from)
    }

    fn output_key(&self, path: &Path) -> Result<FileKey, String> {
        output_key(path, 0)
    }

    fn absolute(&self, path: &Path) -> PathBuf {
        std::path::absolute(path).unwrap_or_else(|_| path.to_owned())
    }

    fn default_db(&self) -> Option<PathBuf> {
        portolan_store::default_path()
    }

    fn resolver(&self) -> &dyn Resolver {
        &SystemResolver
    }

    fn file_limit(&self) -> u64 {
        self.file_limit
    }

    fn random_seed(&self) -> u64 {
        use std::hash::{BuildHasher, Hasher};
        let mut h = std::collections::hash_map::RandomState::new().build_hasher();
        h.write_u64(u64::from(std::process::id()));
        h.finish()
    }

    fn fingerprints(&self, dir: Option<&Path>) -> anyhow::Result<Database> {
        let mut db = Database::builtin()?;
        if let Some(dir) = dir {
            db.prepend_dir(dir)
                .map_err(|e| usage(format!("--fingerprints: {e}")))?;
        }
        Ok(db)
    }
}

/// The most symlinks followed to a file still to be created.
const MAX_LINKS: u8 = 8;

/// Who `path` is: its inode when it exists; when it does not, its canonical
/// directory and name, following a dangling symlink to where the file would be made.
fn output_key(path: &Path, links: u8) -> Result<FileKey, String> {
    match fs::metadata(path) {
        Ok(meta) if meta.is_dir() => Err("it is a directory".into()),
        Ok(meta) => {
            // Opened for writing without truncating, to learn now that it can be.
            OpenOptions::new()
                .write(true)
                .open(path)
                .map_err(|e| e.to_string())?;
            Ok(FileKey::Inode {
                dev: meta.dev(),
                ino: meta.ino(),
            })
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            if let Ok(target) = fs::read_link(path) {
                if links >= MAX_LINKS {
                    return Err("too many levels of symbolic links".into());
                }
                let dir = path.parent().unwrap_or(Path::new(""));
                return output_key(&dir.join(target), links + 1);
            }
            let name = path.file_name().ok_or("not a file name")?;
            let dir = match path.parent() {
                Some(p) if !p.as_os_str().is_empty() => p,
                _ => Path::new("."),
            };
            let dir =
                fs::canonicalize(dir).map_err(|e| format!("directory {}: {e}", dir.display()))?;
            if !dir.is_dir() {
                return Err(format!("{} is not a directory", dir.display()));
            }
            Ok(FileKey::New(dir.join(name)))
        }
        Err(e) => Err(e.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(p: &Path) -> FileKey {
        output_key(p, 0).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
    }

    #[test]
    fn every_spelling_of_one_file_has_one_key() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        fs::write(d.join("a.out"), "x").unwrap();
        std::os::unix::fs::symlink(d.join("a.out"), d.join("link")).unwrap();
        fs::hard_link(d.join("a.out"), d.join("hard")).unwrap();
        let a = key(&d.join("a.out"));
        assert_eq!(key(&d.join("./a.out")), a);
        assert_eq!(key(&d.join("link")), a);
        assert_eq!(key(&d.join("hard")), a);
        assert_eq!(
            fs::read_to_string(d.join("a.out")).unwrap(),
            "x",
            "not truncated"
        );
    }

    #[test]
    fn a_file_still_to_be_made_is_known_by_its_directory_and_name() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        fs::create_dir(d.join("sub")).unwrap();
        std::os::unix::fs::symlink("new.xml", d.join("dangling")).unwrap();
        let new = key(&d.join("new.xml"));
        assert_eq!(key(&d.join("sub/../new.xml")), new);
        assert_eq!(key(&d.join("dangling")), new);
        assert!(!d.join("new.xml").exists(), "the check created the file");
    }

    #[test]
    fn what_cannot_be_written_is_said() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        assert!(output_key(d, 0).unwrap_err().contains("directory"));
        let e = output_key(&d.join("nodir/x"), 0).unwrap_err();
        assert!(e.contains("nodir"), "{e}");
        std::os::unix::fs::symlink("loop", d.join("loop")).unwrap();
        assert!(output_key(&d.join("loop"), 0).is_err());
    }
}
