//! One process per run: an advisory lock beside the database, keyed by run id.
//!
//! Two processes writing one run (a scan and a `--resume` of it started while it
//! still runs) would interleave their outputs and double-count the run. So the
//! process recording a run holds an exclusive `flock(2)` on
//! `<database>.run-<id>.lock` for as long as it records. The kernel drops the lock
//! when the process ends however it ends (`kill -9` included), so a killed scan
//! never leaves its run locked, and no pid has to be checked for liveness.
//!
//! The file is removed when the lock is released. A process that opened the file
//! just before it was removed could lock the removed file, so after locking, the
//! path is checked to still name the locked file, and the attempt is made again if not.

use std::fs::{File, OpenOptions, TryLockError};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use crate::{Store, StoreError};

/// A run held by this process; released when dropped.
#[derive(Debug)]
pub struct RunLock {
    /// `None` for a database without a file (in memory).
    held: Option<(File, PathBuf)>,
}

/// The lock file of run `id` of the database at `db`.
pub fn lock_path(db: &Path, id: i64) -> PathBuf {
    let mut name = db.as_os_str().to_owned();
    name.push(format!(".run-{id}.lock"));
    PathBuf::from(name)
}

impl Store {
    /// Takes run `id` for this process, or fails with [`StoreError::Running`] when
    /// another process holds it.
    pub fn lock_run(&self, id: i64) -> Result<RunLock, StoreError> {
        let Some(db) = self.conn.path().filter(|p| !p.is_empty()) else {
            return Ok(RunLock { held: None });
        };
        let path = lock_path(Path::new(db), id);
        let io = |source| StoreError::Lock {
            path: path.clone(),
            source,
        };
        loop {
            let file = OpenOptions::new()
                .create(true)
                .truncate(false)
                .write(true)
                .open(&path)
                .map_err(io)?;
            match file.try_lock() {
                Ok(()) => {}
                Err(TryLockError::WouldBlock) => return Err(StoreError::Running(id)),
                Err(TryLockError::Error(e)) => return Err(io(e)),
            }
            let ours = file.metadata().map_err(io)?;
            match std::fs::metadata(&path) {
                Ok(now) if now.dev() == ours.dev() && now.ino() == ours.ino() => {
                    return Ok(RunLock {
                        held: Some((file, path)),
                    })
                }
                // Removed (or replaced) by the process that just released it.
                Ok(_) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(io(e)),
            }
        }
    }
}

impl Drop for RunLock {
    fn drop(&mut self) {
        if let Some((file, path)) = self.held.take() {
            // Removed while still locked, so no one can lock this file after us.
            let _ = std::fs::remove_file(&path);
            drop(file);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regression_a_run_is_held_by_one_process() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("h.db");
        let a = Store::open(&path).unwrap();
        let b = Store::open(&path).unwrap();
        let held = a.lock_run(3).unwrap();
        assert!(lock_path(&path, 3).exists());
        let e = b.lock_run(3).unwrap_err();
        assert_eq!(e.to_string(), "scan 3 is still running");
        // Another run is free.
        drop(b.lock_run(4).unwrap());
        drop(held);
        assert!(!lock_path(&path, 3).exists(), "the lock file is removed");
        let again = b.lock_run(3).unwrap();
        drop(again);
    }
}
