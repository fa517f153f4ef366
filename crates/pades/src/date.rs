//! PDF date strings (ISO 32000-1 7.9.4): `D:YYYYMMDDHHmmSSOHH'mm'`.

use time::{Date, Month, OffsetDateTime, PrimitiveDateTime, Time, UtcOffset};

/// Formats a time as a PDF date in UTC ("Z").
pub fn to_pdf_date(t: OffsetDateTime) -> String {
    let t = t.to_offset(UtcOffset::UTC);
    format!(
        "D:{:04}{:02}{:02}{:02}{:02}{:02}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

/// Parses a PDF date leniently (missing parts default, offsets with or without apostrophes).
pub fn parse_pdf_date(s: &str) -> Option<OffsetDateTime> {
    let s = s.trim();
    let s = s.strip_prefix("D:").unwrap_or(s);
    let digits: String = s.chars().take_while(|c| c.is_ascii_digit()).collect();
    if digits.len() < 4 {
        return None;
    }
    let num = |from: usize, len: usize, default: u32| -> Option<u32> {
        match digits.get(from..from + len) {
            Some(p) => p.parse().ok(),
            None => Some(default),
        }
    };
    let year = i32::try_from(num(0, 4, 0)?).ok()?;
    let month = Month::try_from(u8::try_from(num(4, 2, 1)?).ok()?).ok()?;
    let day = u8::try_from(num(6, 2, 1)?).ok()?;
    let hour = u8::try_from(num(8, 2, 0)?).ok()?;
    let minute = u8::try_from(num(10, 2, 0)?).ok()?;
    let second = u8::try_from(num(12, 2, 0)?).ok()?.min(59);
    let date = Date::from_calendar_date(year, month, day).ok()?;
    let time = Time::from_hms(hour, minute, second).ok()?;
    let rest = s.get(digits.len()..).unwrap_or("");
    let offset = match rest.chars().next() {
        Some(sign @ ('+' | '-')) => {
            let od: String = rest
                .chars()
                .skip(1)
                .filter(|c| c.is_ascii_digit())
                .collect();
            let h: i8 = od.get(0..2).and_then(|p| p.parse().ok()).unwrap_or(0);
            let m: i8 = od.get(2..4).and_then(|p| p.parse().ok()).unwrap_or(0);
            let (h, m) = if sign == '-' { (-h, -m) } else { (h, m) };
            UtcOffset::from_hms(h, m, 0).ok()?
        }
        _ => UtcOffset::UTC,
    };
    Some(PrimitiveDateTime::new(date, time).assume_offset(offset))
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn round_trip() {
        let t = datetime!(2026-11-27 20:15:03 UTC);
        assert_eq!(to_pdf_date(t), "D:20261127201503Z");
        assert_eq!(parse_pdf_date(&to_pdf_date(t)), Some(t));
    }

    #[test]
    fn offsets_and_partial_dates() {
        assert_eq!(
            parse_pdf_date("D:20261128031503+07'00'"),
            Some(datetime!(2026-11-27 20:15:03 UTC))
        );
        assert_eq!(
            parse_pdf_date("D:2026"),
            Some(datetime!(2026-01-01 0:00 UTC))
        );
        assert_eq!(parse_pdf_date("garbage"), None);
        assert_eq!(parse_pdf_date("D:20261399"), None);
    }
}
