//! Time recurrence strings: when a time window of a route (or of a time
//! template) holds.
//!
//! `start|duration|frequency|until|interval|weekdays`, for example
//! `20230305T170000|PT6H0.06S|daily||1|MO,TU,WE,TH,FR`:
//!
//! - `start`: local time `YYYYMMDDTHHMMSS`, the first occurrence;
//! - `duration`: an ISO 8601 duration (`PT6H0.06S`, `P1DT2H`), how long
//!   each occurrence lasts; positive, and at most 400 days when the window
//!   repeats;
//! - `frequency`: `daily`, `weekly`, `monthly` or `yearly`; empty for one
//!   occurrence only;
//! - `until`: empty (forever), `YYYYMMDDTHHMMSS` or `YYYYMMDD` (that whole
//!   day): no occurrence starts after it;
//! - `interval`: every how many days/weeks/months/years (default 1);
//! - `weekdays`: `MO,TU,WE,TH,FR,SA,SU`; empty for every day. An
//!   occurrence is kept only when it starts on one of them (with
//!   `weekly`, each listed day of every `interval`-th week, weeks starting
//!   on Monday).
//!
//! Trailing fields may be left out. The short form of time templates,
//! `20100101T010101|PT10H||daily`, with the frequency in the third place
//! after an empty one, is read as `20100101T010101|PT10H|daily`.
//!
//! A window holds at `at` when `at` lies in `[occurrence, occurrence +
//! duration)` for some occurrence. Months without the start's day (the
//! 31st, 29 February) have no occurrence.

use std::fmt;
use std::str::FromStr;

use jiff::civil::{Date, DateTime, Time, Weekday};
use jiff::fmt::temporal::SpanParser;
use jiff::Span;

/// How often a window repeats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Frequency {
    /// It does not: one occurrence, at the start.
    Once,
    /// Every `interval` days.
    Daily,
    /// Every `interval` weeks.
    Weekly,
    /// Every `interval` months, on the start's day of the month.
    Monthly,
    /// Every `interval` years, on the start's month and day.
    Yearly,
}

/// A parsed time recurrence string.
#[derive(Debug, Clone)]
pub struct Recurrence {
    /// The first occurrence, in local time.
    pub start: DateTime,
    /// How long each occurrence lasts (positive).
    pub duration: Span,
    /// How often it repeats.
    pub frequency: Frequency,
    /// No occurrence starts after this time.
    pub until: Option<DateTime>,
    /// Every how many units of the frequency (at least 1).
    pub interval: u32,
    /// The days an occurrence may start on; empty for every day.
    pub weekdays: Vec<Weekday>,
}

/// Why a time recurrence string is not valid.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecurrenceError(String);

impl fmt::Display for RecurrenceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for RecurrenceError {}

fn fail<T>(message: impl Into<String>) -> Result<T, RecurrenceError> {
    Err(RecurrenceError(message.into()))
}

/// The largest interval accepted.
pub const MAX_INTERVAL: u32 = 10_000;

/// The longest a repeating window may last, in days.
pub const MAX_REPEATING_DAYS: i64 = 400;

const SHAPE: &str = "expected start|duration|frequency|until|interval|weekdays";

impl FromStr for Recurrence {
    type Err = RecurrenceError;

    fn from_str(text: &str) -> Result<Recurrence, RecurrenceError> {
        Recurrence::parse(text)
    }
}

impl Recurrence {
    /// Parses and checks `text`.
    pub fn parse(text: &str) -> Result<Recurrence, RecurrenceError> {
        let fields: Vec<&str> = text.trim().split('|').map(str::trim).collect();
        if fields.len() < 2 || fields.len() > 6 {
            return fail(format!("{SHAPE} ({} fields given)", fields.len()));
        }
        let field = |i: usize| fields.get(i).copied().unwrap_or("");
        let start = parse_stamp(field(0))
            .ok_or_else(|| RecurrenceError(format!("start '{}' is not a time YYYYMMDDTHHMMSS", field(0))))?;
        let duration = parse_duration(field(1))?;
        let (freq, until) = match (field(2), frequency(field(3))) {
            ("", Some(_)) => (field(3), ""),
            (freq, _) => (freq, field(3)),
        };
        let frequency = frequency(freq).ok_or_else(|| {
            RecurrenceError(format!("frequency '{freq}' is not daily, weekly, monthly or yearly"))
        })?;
        let until = match until {
            "" => None,
            u => Some(parse_until(u).ok_or_else(|| {
                RecurrenceError(format!("until '{u}' is not a time YYYYMMDDTHHMMSS or a date YYYYMMDD"))
            })?),
        };
        if until.is_some_and(|u| u < start) {
            return fail("until is before start");
        }
        let interval = match field(4) {
            "" => 1,
            i => match i.parse::<u32>() {
                Ok(n) if (1..=MAX_INTERVAL).contains(&n) => n,
                _ => return fail(format!("interval '{i}' is not a whole number from 1 to {MAX_INTERVAL}")),
            },
        };
        let weekdays = parse_weekdays(field(5))?;
        if frequency != Frequency::Once {
            let cap = start.checked_add(Span::new().days(MAX_REPEATING_DAYS));
            if matches!((start.checked_add(duration), cap), (Ok(end), Ok(cap)) if end > cap) {
                return fail(format!("a repeating window lasts at most {MAX_REPEATING_DAYS} days"));
            }
        }
        Ok(Recurrence { start, duration, frequency, until, interval, weekdays })
    }

    /// Whether the window holds at the local time `at`.
    pub fn holds(&self, at: DateTime) -> bool {
        if at < self.start {
            return false;
        }
        let first = self.start.date();
        if self.frequency == Frequency::Once {
            return self.occurs_on(first) && self.open_at(self.start, at);
        }
        // The earliest day an occurrence still open at `at` can start on.
        let earliest = at.checked_sub(self.duration).map_or(first, |d| d.date()).max(first);
        let mut day = at.date();
        loop {
            if self.occurs_on(day) && self.open_at(day.to_datetime(self.start.time()), at) {
                return true;
            }
            if day <= earliest {
                return false;
            }
            match day.yesterday() {
                Ok(d) => day = d,
                Err(_) => return false,
            }
        }
    }

    /// Whether the occurrence starting at `begin` covers `at`.
    fn open_at(&self, begin: DateTime, at: DateTime) -> bool {
        if begin < self.start || begin > at || self.until.is_some_and(|u| begin > u) {
            return false;
        }
        // A window whose end is past the representable range never ends.
        begin.checked_add(self.duration).map_or(true, |end| at < end)
    }

    /// Whether an occurrence starts on `day`.
    fn occurs_on(&self, day: Date) -> bool {
        let first = self.start.date();
        if day < first || (!self.weekdays.is_empty() && !self.weekdays.contains(&day.weekday())) {
            return false;
        }
        let every = i64::from(self.interval);
        match self.frequency {
            Frequency::Once => day == first,
            Frequency::Daily => days_between(first, day).is_some_and(|d| d % every == 0),
            Frequency::Weekly if self.weekdays.is_empty() => {
                days_between(first, day).is_some_and(|d| d % (7 * every) == 0)
            }
            Frequency::Weekly => match (week_start(first), week_start(day)) {
                (Some(a), Some(b)) => days_between(a, b).is_some_and(|d| (d / 7) % every == 0),
                _ => false,
            },
            Frequency::Monthly => {
                let months = (i64::from(day.year()) - i64::from(first.year())) * 12 + i64::from(day.month())
                    - i64::from(first.month());
                day.day() == first.day() && months % every == 0
            }
            Frequency::Yearly => {
                let years = i64::from(day.year()) - i64::from(first.year());
                day.month() == first.month() && day.day() == first.day() && years % every == 0
            }
        }
    }
}

/// Checks `text` without keeping the result.
pub fn validate(text: &str) -> Result<(), RecurrenceError> {
    Recurrence::parse(text).map(|_| ())
}

fn frequency(word: &str) -> Option<Frequency> {
    Some(match word.to_ascii_lowercase().as_str() {
        "" => Frequency::Once,
        "daily" => Frequency::Daily,
        "weekly" => Frequency::Weekly,
        "monthly" => Frequency::Monthly,
        "yearly" => Frequency::Yearly,
        _ => return None,
    })
}

fn digits(text: &str) -> Option<i32> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

fn parse_date(text: &str) -> Option<Date> {
    if text.len() != 8 || !text.is_ascii() {
        return None;
    }
    let year = i16::try_from(digits(&text[0..4])?).ok()?;
    let month = i8::try_from(digits(&text[4..6])?).ok()?;
    let day = i8::try_from(digits(&text[6..8])?).ok()?;
    Date::new(year, month, day).ok()
}

/// `YYYYMMDDTHHMMSS`.
fn parse_stamp(text: &str) -> Option<DateTime> {
    let (date, time) = text.split_once(['T', 't'])?;
    if time.len() != 6 || !time.is_ascii() {
        return None;
    }
    let hour = i8::try_from(digits(&time[0..2])?).ok()?;
    let minute = i8::try_from(digits(&time[2..4])?).ok()?;
    let second = i8::try_from(digits(&time[4..6])?).ok()?;
    Some(parse_date(date)?.to_datetime(Time::new(hour, minute, second, 0).ok()?))
}

fn parse_until(text: &str) -> Option<DateTime> {
    parse_stamp(text).or_else(|| parse_date(text).map(|d| d.to_datetime(Time::MAX)))
}

fn parse_duration(text: &str) -> Result<Span, RecurrenceError> {
    static PARSER: SpanParser = SpanParser::new();
    let bad = || RecurrenceError(format!("duration '{text}' is not an ISO 8601 duration such as PT6H"));
    if !text.starts_with(['P', 'p']) {
        return Err(bad());
    }
    let span = PARSER.parse_span(text).map_err(|_| bad())?;
    if span.is_negative() || span.is_zero() {
        return fail(format!("duration '{text}' must be longer than zero"));
    }
    Ok(span)
}

fn parse_weekdays(text: &str) -> Result<Vec<Weekday>, RecurrenceError> {
    let mut days = Vec::new();
    if text.is_empty() {
        return Ok(days);
    }
    for token in text.split(',').map(str::trim) {
        let day = match token.to_ascii_uppercase().as_str() {
            "MO" => Weekday::Monday,
            "TU" => Weekday::Tuesday,
            "WE" => Weekday::Wednesday,
            "TH" => Weekday::Thursday,
            "FR" => Weekday::Friday,
            "SA" => Weekday::Saturday,
            "SU" => Weekday::Sunday,
            _ => return fail(format!("weekday '{token}' is not one of MO,TU,WE,TH,FR,SA,SU")),
        };
        if !days.contains(&day) {
            days.push(day);
        }
    }
    Ok(days)
}

fn days_between(from: Date, to: Date) -> Option<i64> {
    from.until(to).ok().map(|s| i64::from(s.get_days()))
}

/// The Monday of `day`'s week.
fn week_start(day: Date) -> Option<Date> {
    day.checked_sub(Span::new().days(i64::from(day.weekday().to_monday_zero_offset()))).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    /// Every time recurrence string the PBX seed shows.
    const SEED: &[&str] = &[
        "20230305T170000|PT6H0.06S|daily||1|MO,TU,WE,TH,FR",
        "20220502T000000|PT59M59.696S|daily||1|MO",
        "20220502T000000|PT1H59M59S|daily||1|MO",
        "20100101T010101|PT10H||daily",
        "20100102T010101|PT10H||daily",
        "20770101T010101|PT10H||daily",
        "20211231T000000|PT47H59M59S|yearly||1|",
        "20220503T070000|PT59M59.464S|daily||1|SU",
        "20220511T000000|PT119H59M59S|yearly||1|",
        "20220503T070000|PT2H|daily||1|SU",
    ];

    fn at(y: i16, m: i8, d: i8, h: i8, min: i8, s: i8) -> DateTime {
        date(y, m, d).at(h, min, s, 0)
    }

    fn r(text: &str) -> Recurrence {
        match Recurrence::parse(text) {
            Ok(r) => r,
            Err(e) => panic!("{text}: {e}"),
        }
    }

    #[test]
    fn every_seed_example_parses() {
        for text in SEED {
            r(text);
        }
        let short = r("20100101T010101|PT10H||daily");
        assert_eq!((short.frequency, short.until.is_none(), short.interval), (Frequency::Daily, true, 1));
        let full = r(SEED[0]);
        assert_eq!(full.weekdays.len(), 5);
        assert_eq!(full.frequency, Frequency::Daily);
    }

    #[test]
    fn garbage_is_refused() {
        for text in [
            "",
            "garbage",
            "20230305T170000",
            "20230305T170000|",
            "2023-03-05T17:00:00|PT1H|daily",
            "20231305T170000|PT1H|daily",
            "20230230T170000|PT1H|daily",
            "20230305T250000|PT1H|daily",
            "20230305T170000|1H|daily",
            "20230305T170000|PT|daily",
            "20230305T170000|PT0S|daily",
            "20230305T170000|-PT1H|daily",
            "20230305T170000|6h|daily",
            "20230305T170000|PT1H|hourly",
            "20230305T170000|PT1H|daily|yesterday",
            "20230305T170000|PT1H|daily|20220101T000000",
            "20230305T170000|PT1H|daily||0",
            "20230305T170000|PT1H|daily||x",
            "20230305T170000|PT1H|daily||1|XX",
            "20230305T170000|PT1H|daily||1|MO,",
            "20230305T170000|PT1H|daily||1|MO|extra",
            "20230305T170000|P401D|daily",
            "20230305T170000|P2Y|yearly",
        ] {
            assert!(Recurrence::parse(text).is_err(), "{text} should be refused");
        }
    }

    #[test]
    fn workdays_evening_window() {
        // 2023-03-05 is a Sunday.
        let w = r("20230305T170000|PT6H0.06S|daily||1|MO,TU,WE,TH,FR");
        assert!(!w.holds(at(2023, 3, 5, 18, 0, 0)), "Sunday is not a workday");
        assert!(w.holds(at(2023, 3, 6, 17, 0, 0)), "Monday 17:00 opens");
        assert!(w.holds(at(2023, 3, 6, 23, 0, 0)), "Monday 23:00 still open");
        assert!(!w.holds(at(2023, 3, 6, 23, 0, 1)), "Monday 23:00:01 closed");
        assert!(!w.holds(at(2023, 3, 7, 16, 59, 59)));
        assert!(w.holds(at(2024, 5, 10, 20, 0, 0)), "a Friday a year later");
        assert!(!w.holds(at(2024, 5, 11, 20, 0, 0)), "a Saturday");
        assert!(!w.holds(at(2023, 3, 3, 18, 0, 0)), "before the start");
    }

    #[test]
    fn yearly_window_spans_the_new_year() {
        let w = r("20211231T000000|PT47H59M59S|yearly||1|");
        assert!(w.holds(at(2023, 12, 31, 0, 0, 0)));
        assert!(w.holds(at(2024, 1, 1, 23, 59, 58)));
        assert!(!w.holds(at(2024, 1, 2, 0, 0, 0)));
        assert!(!w.holds(at(2024, 6, 1, 12, 0, 0)));
        let holiday = r("20220511T000000|PT119H59M59S|yearly||1|");
        assert!(holiday.holds(at(2025, 5, 15, 23, 0, 0)));
        assert!(!holiday.holds(at(2025, 5, 16, 0, 0, 0)));
        assert!(!holiday.holds(at(2025, 5, 10, 23, 0, 0)));
    }

    #[test]
    fn short_template_form_is_daily_forever() {
        let w = r("20100101T010101|PT10H||daily");
        assert!(w.holds(at(2030, 7, 4, 1, 1, 1)));
        assert!(w.holds(at(2030, 7, 4, 11, 1, 0)));
        assert!(!w.holds(at(2030, 7, 4, 11, 1, 1)));
        assert!(!w.holds(at(2030, 7, 4, 1, 1, 0)));
    }

    #[test]
    fn until_interval_weekly_monthly_and_once() {
        let until = r("20240101T090000|PT1H|daily|20240103|1|");
        assert!(until.holds(at(2024, 1, 3, 9, 30, 0)));
        assert!(!until.holds(at(2024, 1, 4, 9, 30, 0)));

        let every_other = r("20240101T090000|PT1H|daily||2|");
        assert!(every_other.holds(at(2024, 1, 3, 9, 0, 0)));
        assert!(!every_other.holds(at(2024, 1, 4, 9, 0, 0)));

        // 2024-01-01 is a Monday; every second week on Tuesday and Thursday.
        let weekly = r("20240101T080000|PT2H|weekly||2|TU,TH");
        assert!(weekly.holds(at(2024, 1, 2, 9, 0, 0)));
        assert!(weekly.holds(at(2024, 1, 4, 9, 0, 0)));
        assert!(!weekly.holds(at(2024, 1, 9, 9, 0, 0)));
        assert!(weekly.holds(at(2024, 1, 16, 9, 0, 0)));
        let plain_weekly = r("20240101T080000|PT2H|weekly");
        assert!(plain_weekly.holds(at(2024, 1, 8, 8, 0, 0)));
        assert!(!plain_weekly.holds(at(2024, 1, 9, 8, 0, 0)));

        let monthly = r("20240131T120000|PT1H|monthly||1|");
        assert!(monthly.holds(at(2024, 3, 31, 12, 30, 0)));
        assert!(!monthly.holds(at(2024, 2, 29, 12, 30, 0)), "February has no 31st");
        assert!(!monthly.holds(at(2024, 4, 30, 12, 30, 0)));

        let long_once = r("19000101T000000|P200Y");
        assert!(long_once.holds(at(2099, 12, 31, 23, 0, 0)));
        assert!(!long_once.holds(at(2100, 1, 1, 0, 0, 0)));
        let once = r("20240601T000000|P1D");
        assert!(once.holds(at(2024, 6, 1, 23, 59, 59)));
        assert!(!once.holds(at(2024, 6, 2, 0, 0, 0)));
        assert!(!once.holds(at(2025, 6, 1, 12, 0, 0)));
    }
}
