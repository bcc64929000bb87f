//! Ages and durations the way kubectl writes and reads them.

use jiff::Timestamp;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use std::time::Duration;

/// Formats a duration like kubectl's AGE column (`45s`, `5m30s`, `12m`, `3h20m`, `3h`, `5d`, `2y`):
/// a port of apimachinery's `duration.HumanDuration`, so our tables read like `kubectl get`.
pub fn format_age(d: Duration) -> String {
    let seconds = d.as_secs();
    if seconds < 120 {
        return format!("{seconds}s");
    }
    let minutes = seconds / 60;
    if minutes < 10 {
        let s = seconds % 60;
        return if s == 0 { format!("{minutes}m") } else { format!("{minutes}m{s}s") };
    }
    if minutes < 60 * 3 {
        return format!("{minutes}m");
    }
    let hours = minutes / 60;
    if hours < 8 {
        let m = minutes % 60;
        return if m == 0 { format!("{hours}h") } else { format!("{hours}h{m}m") };
    }
    if hours < 48 {
        return format!("{hours}h");
    }
    if hours < 24 * 8 {
        let h = hours % 24;
        let days = hours / 24;
        return if h == 0 { format!("{days}d") } else { format!("{days}d{h}h") };
    }
    if hours < 24 * 365 * 2 {
        return format!("{}d", hours / 24);
    }
    if hours < 24 * 365 * 8 {
        let years = hours / 24 / 365;
        let days = (hours / 24) % 365;
        return if days == 0 { format!("{years}y") } else { format!("{years}y{days}d") };
    }
    format!("{}y", hours / 24 / 365)
}

/// The time elapsed from `then` to `now`; zero when `then` is in the future (clock skew).
pub fn elapsed(then: Timestamp, now: Timestamp) -> Duration {
    Duration::try_from(now.duration_since(then)).unwrap_or(Duration::ZERO)
}

/// The AGE cell for an object's creationTimestamp; `<unknown>` when it has none, as kubectl shows.
pub fn age_of(created: Option<&Time>) -> String {
    age_of_timestamp(created.map(|t| t.0))
}

/// The AGE cell for a creation time given as a timestamp.
pub fn age_of_timestamp(created: Option<Timestamp>) -> String {
    match created {
        Some(t) => format_age(elapsed(t, Timestamp::now())),
        None => "<unknown>".to_string(),
    }
}

/// Parses a duration given on the command line: a number and a unit (`s`, `m`, `h`, `d`, `w`),
/// possibly several (`1h30m`). Days are 24h, weeks 7 days.
pub fn parse_duration(input: &str) -> Result<Duration, String> {
    let invalid = || format!("invalid duration {input:?}: use a number and a unit, like 90m, 12h or 7d");
    let text = input.trim();
    if text.is_empty() {
        return Err(invalid());
    }
    let mut total: u64 = 0;
    let mut digits = String::new();
    for c in text.chars() {
        if c.is_ascii_digit() {
            digits.push(c);
            continue;
        }
        let unit = match c {
            's' => 1,
            'm' => 60,
            'h' => 3600,
            'd' => 86_400,
            'w' => 7 * 86_400,
            _ => return Err(invalid()),
        };
        let n: u64 = digits.parse().map_err(|_| invalid())?;
        total = n.checked_mul(unit).and_then(|v| total.checked_add(v)).ok_or_else(invalid)?;
        digits.clear();
    }
    if !digits.is_empty() {
        return Err(invalid());
    }
    Ok(Duration::from_secs(total))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn age(secs: u64) -> String {
        format_age(Duration::from_secs(secs))
    }

    #[test]
    fn ages_read_like_kubectl_get() {
        assert_eq!(age(0), "0s");
        assert_eq!(age(45), "45s");
        assert_eq!(age(119), "119s");
        assert_eq!(age(120), "2m");
        assert_eq!(age(330), "5m30s");
        assert_eq!(age(12 * 60), "12m");
        assert_eq!(age(179 * 60), "179m");
        assert_eq!(age(3 * 3600), "3h");
        assert_eq!(age(3 * 3600 + 20 * 60), "3h20m");
        assert_eq!(age(20 * 3600), "20h");
        assert_eq!(age(5 * 86_400), "5d");
        assert_eq!(age(5 * 86_400 + 3 * 3600), "5d3h");
        assert_eq!(age(40 * 86_400), "40d");
        assert_eq!(age(2 * 365 * 86_400), "2y");
        assert_eq!(age(3 * 365 * 86_400 + 10 * 86_400), "3y10d");
        assert_eq!(age(9 * 365 * 86_400), "9y");
    }

    #[test]
    fn future_timestamps_have_zero_age() {
        let now = Timestamp::now();
        let later = now + jiff::SignedDuration::from_secs(30);
        assert_eq!(elapsed(later, now), Duration::ZERO);
    }

    #[test]
    fn durations_parse_with_units() {
        assert_eq!(parse_duration("90m"), Ok(Duration::from_secs(5400)));
        assert_eq!(parse_duration("12h"), Ok(Duration::from_secs(43_200)));
        assert_eq!(parse_duration("7d"), Ok(Duration::from_secs(604_800)));
        assert_eq!(parse_duration("1h30m"), Ok(Duration::from_secs(5400)));
        assert_eq!(parse_duration("2w"), Ok(Duration::from_secs(1_209_600)));
    }

    #[test]
    fn bad_durations_name_the_input() {
        for bad in ["", "7", "d", "7x", "-3d", "1.5h", "99999999999999999999d"] {
            let err = parse_duration(bad).unwrap_err();
            assert!(err.contains(&format!("{bad:?}")), "{err}");
        }
    }
}
