//! The checks of a fingerprint file beyond its TOML shape, and where in the file each
//! mistake is.
//!
//! A user who writes a fingerprint (`--fingerprints DIR`) learns about every mistake
//! when the file is loaded, not when a scan quietly names nothing: a pattern the regex
//! crate refuses, a template that refers to a group the pattern does not have, an
//! empty pattern. Each message is one line, and names the file, the line and, when the
//! value is written as it is read (a literal `'...'` string, or a `"..."` one without
//! escapes), the column of the very character at fault.

use std::ops::Range;

/// A place in a file: 1-based line and column (in characters).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Place {
    pub(crate) line: usize,
    pub(crate) column: usize,
}

/// The place of byte `offset` of `text`.
pub(crate) fn place(text: &str, offset: usize) -> Place {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let before = &text[..offset];
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    Place {
        line: before.matches('\n').count() + 1,
        column: before[line_start..].chars().count() + 1,
    }
}

/// The place of character `at` (a byte offset) inside a string value whose TOML
/// literal spans `span`: exact when the literal is the value as written, else the
/// start of the literal.
pub(crate) fn place_in_value(text: &str, span: &Range<usize>, value: &str, at: usize) -> Place {
    let raw = text.get(span.clone()).unwrap_or("");
    let inner = raw
        .strip_prefix('\'')
        .and_then(|r| r.strip_suffix('\''))
        .or_else(|| raw.strip_prefix('"').and_then(|r| r.strip_suffix('"')));
    match inner {
        Some(inner) if inner == value && !inner.starts_with('\'') && !inner.starts_with('"') => {
            place(text, span.start + 1 + at.min(value.len()))
        }
        _ => place(text, span.start),
    }
}

/// A reference in a template to a group of the pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct GroupRef<'a> {
    /// Byte offset of the `$` in the template.
    pub(crate) at: usize,
    /// The name or number, as written.
    pub(crate) name: &'a str,
    /// Whether it was written `${...}`.
    pub(crate) braced: bool,
}

/// Every group reference of `template`, read as the regex crate's `expand` reads it:
/// `$$` is a dollar, `${name}` ends at the brace, `$name` takes the longest run of
/// letters, digits and `_`, and a `$` followed by none of these is a dollar.
pub(crate) fn group_refs(template: &str) -> Vec<GroupRef<'_>> {
    let bytes = template.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] != b'$' {
            i += 1;
            continue;
        }
        let at = i;
        match bytes.get(i + 1) {
            Some(b'$') => i += 2,
            Some(b'{') => match template[i + 2..].find('}') {
                Some(len) if len > 0 => {
                    out.push(GroupRef {
                        at,
                        name: &template[i + 2..i + 2 + len],
                        braced: true,
                    });
                    i += len + 3;
                }
                _ => i += 1,
            },
            _ => {
                let len = bytes[i + 1..]
                    .iter()
                    .take_while(|b| b.is_ascii_alphanumeric() || **b == b'_')
                    .count();
                if len > 0 {
                    out.push(GroupRef {
                        at,
                        name: &template[i + 1..=i + len],
                        braced: false,
                    });
                }
                i += len + 1;
            }
        }
    }
    out
}

/// What is wrong with `reference` for a pattern of `groups` groups (the whole match
/// is group 0) and these group names, if anything.
pub(crate) fn bad_ref(reference: &GroupRef<'_>, groups: usize, names: &[&str]) -> Option<String> {
    let written = if reference.braced {
        format!("${{{}}}", reference.name)
    } else {
        format!("${}", reference.name)
    };
    if let Ok(n) = reference.name.parse::<usize>() {
        if n < groups {
            return None;
        }
        let has = match groups - 1 {
            1 => "1 group".to_string(),
            n => format!("{n} groups"),
        };
        return Some(format!("`{written}` but the pattern has {has}"));
    }
    if names.contains(&reference.name) {
        return None;
    }
    let digits = reference
        .name
        .bytes()
        .take_while(u8::is_ascii_digit)
        .count();
    if digits > 0 && !reference.braced {
        let (n, rest) = reference.name.split_at(digits);
        return Some(format!(
            "`{written}` is read as the group named `{}`, which the pattern does not have (write `${{{n}}}{rest}`)",
            reference.name
        ));
    }
    Some(format!(
        "`{written}`: the pattern has no group of that name"
    ))
}

/// Where in `pattern` the regex crate's parser fails, and why, in one line; `None`
/// when the syntax is fine (the failure is then the size limit).
pub(crate) fn regex_syntax_error(pattern: &str) -> Option<(usize, String)> {
    use regex_syntax::ast::parse::Parser;
    use regex_syntax::hir::translate::TranslatorBuilder;
    let ast = match Parser::new().parse(pattern) {
        Ok(ast) => ast,
        Err(e) => return Some((e.span().start.offset, e.kind().to_string())),
    };
    TranslatorBuilder::new()
        .unicode(false)
        .utf8(false)
        .dot_matches_new_line(true)
        .build()
        .translate(pattern, &ast)
        .err()
        .map(|e| (e.span().start.offset, e.kind().to_string()))
}

/// A message of the regex crate (several lines with a caret diagram) as one line.
pub(crate) fn one_line(message: &str) -> String {
    message.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn places_count_lines_and_characters() {
        let text = "a = 1\nbé = 'x('\n";
        assert_eq!(place(text, 0), Place { line: 1, column: 1 });
        assert_eq!(place(text, 6), Place { line: 2, column: 1 });
        let x = text.find("x(").unwrap();
        assert_eq!(place(text, x), Place { line: 2, column: 7 });
        assert_eq!(place(text, 999).line, 3);
    }

    #[test]
    fn a_value_written_as_read_gives_the_exact_column() {
        let text = "pattern = 'ab('\n";
        let span = 10..15;
        assert_eq!(place_in_value(text, &span, "ab(", 2).column, 14);
        let text = "pattern = \"a\\\\b(\"\n";
        let span = 10..17;
        assert_eq!(place_in_value(text, &span, "a\\b(", 3).column, 11);
    }

    #[test]
    fn group_references_are_read_as_expand_reads_them() {
        let names = |t| {
            group_refs(t)
                .into_iter()
                .map(|r| r.name)
                .collect::<Vec<_>>()
        };
        assert_eq!(names("$1 or later"), ["1"]);
        assert_eq!(names("${1}or $$2 $ x ${} $name_2-"), ["1", "name_2"]);
        assert_eq!(names("$1or"), ["1or"]);
        assert_eq!(group_refs("ab$3")[0].at, 2);
    }

    #[test]
    fn bad_references_are_explained() {
        let r = |t| group_refs(t).remove(0);
        assert_eq!(bad_ref(&r("$2"), 3, &[]), None);
        assert_eq!(
            bad_ref(&r("$3"), 3, &[]).unwrap(),
            "`$3` but the pattern has 2 groups"
        );
        assert_eq!(
            bad_ref(&r("$1"), 1, &[]).unwrap(),
            "`$1` but the pattern has 0 groups"
        );
        assert_eq!(bad_ref(&r("${v}"), 2, &["v"]), None);
        assert!(bad_ref(&r("$1or"), 2, &[]).unwrap().contains("${1}or"));
        assert!(bad_ref(&r("${w}"), 2, &["v"]).unwrap().contains("no group"));
    }

    #[test]
    fn regex_errors_have_a_place_and_one_line() {
        let (at, why) = regex_syntax_error("ab(cd").unwrap();
        assert_eq!((at, why.as_str()), (2, "unclosed group"));
        assert!(regex_syntax_error(r"\xff[\d.]+").is_none());
        assert_eq!(one_line("a\n   b\n^\nc"), "a b ^ c");
    }
}
