//! The output formats a scan (or `portolan show`) writes, and where.
//!
//! Each format goes to its own file or to stdout (`-`); several at once are fine,
//! but only one may take stdout, and when one does the terminal table steps aside.
//! `-oA BASE` means `BASE.nmap`, `BASE.xml`, `BASE.gnmap` and `BASE.json`.

use std::io::Write;
use std::path::{Path, PathBuf};

use clap::{Args, ValueEnum};
use portolan_output::{
    Colour, CsvReport, GrepableReport, JsonReport, NdjsonReport, Report, TableReport, XmlReport,
};

use crate::exit::usage;
use crate::scan::writer;

/// A result format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// The table, without colour (`-oN`).
    Normal,
    /// nmap-compatible XML (`-oX`).
    Xml,
    /// nmap's grepable format (`-oG`).
    Grepable,
    /// One JSON document (`-oJ`), schema docs/schema/scan-v1.json.
    Json,
    /// One JSON object per port and line (`-oD`).
    Ndjson,
    /// One row per port.
    Csv,
}

/// Output and history options of `portolan scan`.
#[derive(Debug, Clone, Default, Args)]
pub struct OutputArgs {
    /// Write the table, without colour, to FILE (`-` for stdout); `-oN` also works.
    #[arg(long = "normal", value_name = "FILE")]
    pub normal: Option<PathBuf>,

    /// Write nmap-compatible XML to FILE; `-oX` also works.
    #[arg(long = "xml", value_name = "FILE")]
    pub xml: Option<PathBuf>,

    /// Write nmap's grepable format to FILE; `-oG` also works.
    #[arg(long = "grepable", value_name = "FILE")]
    pub grepable: Option<PathBuf>,

    /// Write one JSON document to FILE; `-oJ` also works.
    #[arg(long = "json", value_name = "FILE")]
    pub json: Option<PathBuf>,

    /// Write CSV, one row per port, to FILE.
    #[arg(long = "csv", value_name = "FILE")]
    pub csv: Option<PathBuf>,

    /// Write BASE.nmap, BASE.xml, BASE.gnmap and BASE.json; `-oA` also works.
    #[arg(long = "all-formats", value_name = "BASE")]
    pub all_formats: Option<PathBuf>,

    /// Do not record this scan in the history database.
    #[arg(long = "no-history")]
    pub no_history: bool,

    /// The history database (default: `$XDG_DATA_HOME/portolan/history.db`).
    #[arg(long = "db", value_name = "PATH")]
    pub db: Option<PathBuf>,

    /// Continue an interrupted scan (the latest by default) with its targets and options.
    #[arg(long, value_name = "ID", num_args = 0..=1, default_missing_value = "last")]
    pub resume: Option<String>,
}

fn with_extension(base: &Path, ext: &str) -> PathBuf {
    let mut s = base.as_os_str().to_owned();
    s.push(".");
    s.push(ext);
    PathBuf::from(s)
}

impl OutputArgs {
    /// Every (format, destination) asked for, `ndjson` (`-oD`) included.
    pub fn files(&self, ndjson: Option<&Path>) -> Vec<(Format, PathBuf)> {
        let mut out: Vec<(Format, PathBuf)> = [
            (Format::Normal, &self.normal),
            (Format::Xml, &self.xml),
            (Format::Grepable, &self.grepable),
            (Format::Json, &self.json),
            (Format::Csv, &self.csv),
        ]
        .into_iter()
        .filter_map(|(f, p)| p.clone().map(|p| (f, p)))
        .collect();
        if let Some(p) = ndjson {
            out.push((Format::Ndjson, p.to_owned()));
        }
        if let Some(base) = &self.all_formats {
            for (f, ext) in [
                (Format::Normal, "nmap"),
                (Format::Xml, "xml"),
                (Format::Grepable, "gnmap"),
                (Format::Json, "json"),
            ] {
                out.push((f, with_extension(base, ext)));
            }
        }
        out
    }
}

/// Whether one of `files` writes to stdout.
pub fn takes_stdout(files: &[(Format, PathBuf)]) -> bool {
    files.iter().any(|(_, p)| p == Path::new("-"))
}

/// A report of `format` writing to `out`.
pub fn report(format: Format, out: Box<dyn Write>, open_only: bool) -> Box<dyn Report> {
    match format {
        Format::Normal => Box::new(TableReport::new(out, Colour::Never, open_only)),
        Format::Xml => Box::new(XmlReport::new(out, open_only)),
        Format::Grepable => Box::new(GrepableReport::new(out, open_only)),
        Format::Json => Box::new(JsonReport::new(out, open_only)),
        Format::Ndjson => Box::new(NdjsonReport::new(out, open_only)),
        Format::Csv => Box::new(CsvReport::new(out, open_only)),
    }
}

/// Opens every file of `files` and adds its report to `reports`.
pub fn push(
    files: &[(Format, PathBuf)],
    open_only: bool,
    reports: &mut Vec<Box<dyn Report>>,
) -> anyhow::Result<()> {
    if files.iter().filter(|(_, p)| p == Path::new("-")).count() > 1 {
        return Err(usage("only one output format can write to stdout (-)"));
    }
    for (i, (_, path)) in files.iter().enumerate() {
        if path != Path::new("-") && files[..i].iter().any(|(_, p)| p == path) {
            return Err(usage(format!(
                "two output formats would write to {}",
                path.display()
            )));
        }
    }
    for (format, path) in files {
        reports.push(report(*format, writer(path)?, open_only));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn all_formats_expands_to_four_files() {
        let args = OutputArgs {
            all_formats: Some("out/scan".into()),
            csv: Some("-".into()),
            ..OutputArgs::default()
        };
        let files = args.files(None);
        let names: Vec<String> = files.iter().map(|(_, p)| p.display().to_string()).collect();
        assert_eq!(
            names,
            [
                "-",
                "out/scan.nmap",
                "out/scan.xml",
                "out/scan.gnmap",
                "out/scan.json"
            ]
        );
        assert!(takes_stdout(&files));
    }

    #[test]
    fn two_formats_on_stdout_are_refused() {
        let files = [
            (Format::Xml, PathBuf::from("-")),
            (Format::Json, PathBuf::from("-")),
        ];
        assert!(push(&files, false, &mut Vec::new()).is_err());
    }
}
