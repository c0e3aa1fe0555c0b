//! The output formats a scan (or `portolan show`) writes, and where.
//!
//! Each format goes to its own file or to stdout (`-`); several at once are fine,
//! but only one may take stdout (checked in [`crate::request`]), and when one does
//! the terminal table steps aside. `-oA BASE` means `BASE.nmap`, `BASE.xml`,
//! `BASE.gnmap` and `BASE.json`.

use std::io::Write;
use std::path::{Path, PathBuf};

use portolan_output::{
    Colour, CsvReport, GrepableReport, JsonReport, NdjsonReport, Report, TableReport, XmlReport,
};

use crate::args::{Format, OutputArgs};

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
    }
}
