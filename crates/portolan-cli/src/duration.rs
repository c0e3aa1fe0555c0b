//! The one time grammar of every command: `2` (seconds), `2s`, `1.5s`, `500ms`,
//! `1m`. A bare number is seconds, as in netcat's `-w 2` and curl's `--max-time 2`;
//! the units are nmap's. Zero is refused unless the option gives it a meaning
//! (`connect -q 0`: close as soon as the input ends), and so is anything from a
//! day up: such a time is a typo, and an unbounded one would overflow the clock.
//! The parsers return plain strings so that clap names the option in its error.

use std::time::Duration;

/// The longest time any option accepts.
const MAX: Duration = Duration::from_hours(24);

/// Parses a time; zero is refused.
pub fn positive(text: &str) -> Result<Duration, String> {
    let d = parse(text)?;
    if d.is_zero() {
        return Err(format!("{text:?}: a time of zero makes no sense here"));
    }
    Ok(d)
}

/// Parses a time; zero is allowed.
pub fn zero_or_more(text: &str) -> Result<Duration, String> {
    parse(text)
}

fn parse(text: &str) -> Result<Duration, String> {
    let t = text.trim();
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let value: f64 = num
        .parse()
        .map_err(|_| format!("{text:?} is not a time (use 2, 2s, 500ms or 1m)"))?;
    let secs = match unit {
        "" | "s" => value,
        "ms" => value / 1000.0,
        "m" => value * 60.0,
        _ => {
            return Err(format!(
                "{text:?}: unknown unit {unit:?} (use ms, s or m; a bare number is seconds)"
            ))
        }
    };
    match Duration::try_from_secs_f64(secs) {
        Ok(d) if d < MAX => Ok(d),
        _ => Err(format!("{text:?}: must be below a day")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bare_numbers_are_seconds() {
        assert_eq!(positive("2"), Ok(Duration::from_secs(2)));
        assert_eq!(positive("0.5"), Ok(Duration::from_millis(500)));
    }

    #[test]
    fn every_unit_is_accepted() {
        assert_eq!(positive("2s"), Ok(Duration::from_secs(2)));
        assert_eq!(positive("1.5s"), Ok(Duration::from_millis(1500)));
        assert_eq!(positive("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(positive("1m"), Ok(Duration::from_mins(1)));
        assert_eq!(positive(" 3s "), Ok(Duration::from_secs(3)));
    }

    #[test]
    fn zero_is_refused_unless_asked_for() {
        assert!(positive("0").is_err());
        assert!(positive("0s").is_err());
        assert!(positive("0ms").is_err());
        assert_eq!(zero_or_more("0"), Ok(Duration::ZERO));
        assert_eq!(zero_or_more("0ms"), Ok(Duration::ZERO));
    }

    #[test]
    fn nonsense_is_refused_with_the_grammar() {
        for bad in [
            "fast", "", "-1", "1h", "5x", "1e3", ".", "2 s", "inf", "NaN",
        ] {
            let e = zero_or_more(bad).unwrap_err();
            assert!(e.contains(&format!("{bad:?}")), "{bad}: {e}");
        }
        assert!(positive("1h").unwrap_err().contains("ms, s or m"));
    }

    #[test]
    fn a_day_or_more_is_refused() {
        assert!(positive("86400").is_err());
        assert!(positive("1440m").is_err());
        assert!(positive("99999999999999999999").is_err());
        assert!(positive("86399").is_ok());
    }
}
