//! Reading the files a user names (`-iL`, `--exclude-file`, `--scope`), and quoting
//! what they typed in messages, both bounded.
//!
//! A target file is small text. `/dev/zero`, `/dev/urandom` or a log file given by
//! mistake must not grow the process to gigabytes, and a 5 MB line must not be echoed
//! back whole. So [`read_list`] stops at [`MAX_FILE_BYTES`] and at a line longer than
//! [`MAX_LINE_BYTES`] with an error naming the file and the line, checked while reading
//! (a file with no newline fails after one line's worth of bytes, not after the file
//! cap), and [`quote`] is the one way an error message shows user input: quoted like
//! `{:?}`, cut to [`QUOTE_CHARS`] characters with a marker saying how long it was.

use std::fs::File;
use std::io::{self, BufRead, BufReader};
use std::path::{Path, PathBuf};

/// The largest file [`read_list`] accepts (64 MiB).
pub const MAX_FILE_BYTES: u64 = 64 << 20;
/// The longest line [`read_list`] accepts (4 KiB).
pub const MAX_LINE_BYTES: usize = 4 << 10;
/// How many characters of user input a message quotes.
pub const QUOTE_CHARS: usize = 64;

/// Why a list file could not be read.
#[derive(Debug, thiserror::Error)]
pub enum FileError {
    /// The file could not be opened or read.
    #[error("cannot read {}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        source: io::Error,
    },
    /// The file is larger than the cap.
    #[error("{} is larger than {} MiB: not a list of targets", path.display(), limit >> 20)]
    TooLarge {
        /// The file.
        path: PathBuf,
        /// The cap in bytes.
        limit: u64,
    },
    /// A line is longer than the cap.
    #[error("{} line {line}: longer than {limit} bytes", path.display())]
    LineTooLong {
        /// The file.
        path: PathBuf,
        /// The line's number, from 1.
        line: u64,
        /// The cap in bytes.
        limit: usize,
    },
    /// A line is not UTF-8.
    #[error("{} line {line}: not UTF-8 text", path.display())]
    NotText {
        /// The file.
        path: PathBuf,
        /// The line's number, from 1.
        line: u64,
    },
}

impl FileError {
    /// What is wrong, without the file's name (for a message that names it already).
    pub fn detail(&self) -> String {
        match self {
            FileError::Io { source, .. } => source.to_string(),
            FileError::TooLarge { limit, .. } => {
                format!("larger than {} MiB: not a list of targets", limit >> 20)
            }
            FileError::LineTooLong { line, limit, .. } => {
                format!("line {line}: longer than {limit} bytes")
            }
            FileError::NotText { line, .. } => format!("line {line}: not UTF-8 text"),
        }
    }
}

/// For a caller that reports an `io::Error` with the file's name beside it.
impl From<FileError> for io::Error {
    fn from(e: FileError) -> Self {
        match e {
            FileError::Io { source, .. } => source,
            other => io::Error::new(io::ErrorKind::InvalidData, other.detail()),
        }
    }
}

/// Reads a list file as text, within [`MAX_FILE_BYTES`] and [`MAX_LINE_BYTES`].
pub fn read_list(path: &Path) -> Result<String, FileError> {
    let io_err = |source| FileError::Io {
        path: path.to_owned(),
        source,
    };
    let file = File::open(path).map_err(io_err)?;
    read_bounded(BufReader::new(file), path, Limits::DEFAULT)
}

/// The caps of [`read_bounded`].
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// The most bytes read from the whole file.
    pub file: u64,
    /// The most bytes in one line.
    pub line: usize,
}

impl Limits {
    /// [`MAX_FILE_BYTES`] and [`MAX_LINE_BYTES`].
    pub const DEFAULT: Limits = Limits {
        file: MAX_FILE_BYTES,
        line: MAX_LINE_BYTES,
    };
}

/// [`read_list`] over any reader; `path` only names it in errors.
pub fn read_bounded(
    mut reader: impl BufRead,
    path: &Path,
    limits: Limits,
) -> Result<String, FileError> {
    let mut out: Vec<u8> = Vec::new();
    let (mut line, mut line_len) = (1u64, 0usize);
    loop {
        let buf = match reader.fill_buf() {
            Ok(b) => b,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(source) => {
                return Err(FileError::Io {
                    path: path.to_owned(),
                    source,
                })
            }
        };
        if buf.is_empty() {
            break;
        }
        for &b in buf {
            if b == b'\n' {
                line += 1;
                line_len = 0;
            } else {
                line_len += 1;
                if line_len > limits.line {
                    return Err(FileError::LineTooLong {
                        path: path.to_owned(),
                        line,
                        limit: limits.line,
                    });
                }
            }
        }
        let n = buf.len();
        if (out.len() + n) as u64 > limits.file {
            return Err(FileError::TooLarge {
                path: path.to_owned(),
                limit: limits.file,
            });
        }
        out.extend_from_slice(buf);
        reader.consume(n);
    }
    String::from_utf8(out).map_err(|e| {
        let upto = e.utf8_error().valid_up_to();
        let bytes = e.as_bytes();
        let line = bytes[..upto].split(|&b| b == b'\n').count() as u64;
        FileError::NotText {
            path: path.to_owned(),
            line,
        }
    })
}

/// `text` quoted for a message: as `{:?}` would, but at most [`QUOTE_CHARS`]
/// characters of it, then `…` and its length in bytes.
pub fn quote(text: &str) -> String {
    match text.char_indices().nth(QUOTE_CHARS) {
        None => format!("{text:?}"),
        Some((cut, _)) => format!("{:?}… ({} bytes)", &text[..cut], text.len()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    const SMALL: Limits = Limits {
        file: 1000,
        line: 10,
    };

    #[test]
    fn reads_a_list() {
        let text = read_bounded(&b"10.0.0.1\n# x\n10.0.0.2"[..], Path::new("t"), SMALL).unwrap();
        assert_eq!(text, "10.0.0.1\n# x\n10.0.0.2");
    }

    #[test]
    fn regression_dev_zero_stops_at_the_first_line() {
        // An endless stream without a newline (like /dev/zero) fails after one line.
        let endless = io::repeat(0).take(u64::MAX);
        let e = read_bounded(BufReader::new(endless), Path::new("/dev/zero"), SMALL).unwrap_err();
        assert_eq!(e.to_string(), "/dev/zero line 1: longer than 10 bytes");
    }

    #[test]
    fn regression_endless_short_lines_stop_at_the_file_cap() {
        let endless = io::repeat(b'\n').take(u64::MAX);
        let e = read_bounded(BufReader::new(endless), Path::new("f"), SMALL).unwrap_err();
        assert!(matches!(e, FileError::TooLarge { .. }), "{e}");
    }

    #[test]
    fn long_line_is_named_by_number() {
        let e = read_bounded(&b"a\nb\n0123456789ABC\n"[..], Path::new("f"), SMALL).unwrap_err();
        assert_eq!(e.to_string(), "f line 3: longer than 10 bytes");
    }

    #[test]
    fn binary_is_refused_with_its_line() {
        let e = read_bounded(&b"a\n\xff\xfe\n"[..], Path::new("f"), SMALL).unwrap_err();
        assert_eq!(e.to_string(), "f line 2: not UTF-8 text");
    }

    #[test]
    fn real_dev_zero_is_refused_quickly() {
        let e = read_list(Path::new("/dev/zero")).unwrap_err();
        assert!(matches!(e, FileError::LineTooLong { line: 1, .. }), "{e}");
    }

    #[test]
    fn quote_cuts_long_input() {
        assert_eq!(quote("a\"b"), "\"a\\\"b\"");
        let long = "x".repeat(5_000_000);
        let q = quote(&long);
        assert!(q.len() < 100, "{q}");
        assert!(q.ends_with("… (5000000 bytes)"), "{q}");
        let wide = "é".repeat(100);
        assert!(quote(&wide).starts_with("\"éé"));
    }
}
