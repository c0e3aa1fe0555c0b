//! The real [`Env`] of a scan request: the file system, the system resolver, the
//! process's open-file limit and a fresh seed. Only this module (and the
//! writers) touch the file system for `scan`; the request's checks are tested
//! against a fake.

use std::fs::{self, OpenOptions};
use std::io::{self, Read};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use portolan_probe::Database;
use portolan_target::spec::{Resolver, SystemResolver};

use crate::exit::usage;
use crate::request::{Env, FileKey};

/// The world as it is.
pub struct SystemEnv {
    pub file_limit: u64,
}

impl Env for SystemEnv {
    fn read_text(&self, path: &Path) -> io::Result<String> {
        if path == Path::new("-") {
            let mut text = String::new();
            io::stdin().lock().read_to_string(&mut text)?;
            return Ok(text);
        }
        fs::read_to_string(path)
    }

    fn output_key(&self, path: &Path) -> Result<FileKey, String> {
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
                let name = path.file_name().ok_or("not a file name")?;
                let dir = match path.parent() {
                    Some(p) if !p.as_os_str().is_empty() => p,
                    _ => Path::new("."),
                };
                let dir = fs::canonicalize(dir)
                    .map_err(|e| format!("directory {}: {e}", dir.display()))?;
                if !dir.is_dir() {
                    return Err(format!("{} is not a directory", dir.display()));
                }
                Ok(FileKey::New(dir.join(name)))
            }
            Err(e) => Err(e.to_string()),
        }
    }

    fn absolute(&self, path: &Path) -> PathBuf {
        std::path::absolute(path).unwrap_or_else(|_| path.to_owned())
    }

    fn default_db(&self) -> Option<PathBuf> {
        portolan_store::db::default_path()
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
