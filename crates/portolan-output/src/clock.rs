//! Wall-clock times as the formats write them, in UTC, without a date library.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// A time broken down into UTC calendar fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Utc {
    /// The year, e.g. 2024.
    pub year: i64,
    /// 1 to 12.
    pub month: u32,
    /// 1 to 31.
    pub day: u32,
    /// 0 to 23.
    pub hour: u32,
    /// 0 to 59.
    pub minute: u32,
    /// 0 to 59 (no leap seconds).
    pub second: u32,
}

/// Seconds since the Unix epoch (0 for times before it).
pub fn unix(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH)
        .unwrap_or(Duration::ZERO)
        .as_secs()
}

impl Utc {
    /// The calendar fields of `t` (the epoch for times before it).
    pub fn from(t: SystemTime) -> Self {
        let secs = unix(t);
        let days = (secs / 86_400) as i64;
        let rem = secs % 86_400;
        // Howard Hinnant's civil_from_days.
        let z = days + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z.rem_euclid(146_097);
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
        let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
        let year = yoe + era * 400 + i64::from(month <= 2);
        Utc {
            year,
            month,
            day,
            hour: (rem / 3600) as u32,
            minute: (rem / 60 % 60) as u32,
            second: (rem % 60) as u32,
        }
    }

    /// `2024-05-01T12:00:00Z`.
    pub fn rfc3339(self) -> String {
        format!(
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
            self.year, self.month, self.day, self.hour, self.minute, self.second
        )
    }

    /// `2024-05-01 12:00:00 UTC`, for people.
    pub fn human(self) -> String {
        format!(
            "{:04}-{:02}-{:02} {:02}:{:02}:{:02} UTC",
            self.year, self.month, self.day, self.hour, self.minute, self.second
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MAY_2024: u64 = 1_714_564_800;
    const LEAP_DAY_2000: u64 = 951_782_400;

    #[test]
    fn known_dates() {
        let t = UNIX_EPOCH + Duration::from_secs(MAY_2024);
        assert_eq!(Utc::from(t).rfc3339(), "2024-05-01T12:00:00Z");
        assert_eq!(Utc::from(UNIX_EPOCH).human(), "1970-01-01 00:00:00 UTC");
        let leap = UNIX_EPOCH + Duration::from_secs(LEAP_DAY_2000);
        assert_eq!(Utc::from(leap).rfc3339(), "2000-02-29T00:00:00Z");
    }
}
