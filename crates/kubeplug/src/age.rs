//! Ages and durations the way kubectl writes and reads them.

use jiff::Timestamp;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use std::time::Duration;

/// Formats a duration like kubectl's AGE column (`45s`, `5m30s`, `12m`, `3h20m`, `3h`, `5d`, `2y`),
/// with apimachinery's `duration.HumanDuration` (the one copy, in `kubeplug-age`), so our tables
/// read like `kubectl get`.
pub fn format_age(d: Duration) -> String {
    kubeplug_age::human_duration(i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
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

/// Parses a Go duration, as kubectl's `--request-timeout` takes it (`500ms`, `1.5s`, `1m30s`,
/// `2h`; units ns, us, µs, ms, s, m, h), and a bare number as seconds (`5`, `0`), as kubectl
/// does. The message on failure is kubectl's.
pub fn parse_go_duration(input: &str) -> Result<Duration, String> {
    // kubectl's own words (the value itself is named by the flag parser).
    let invalid = || {
        "Invalid timeout value. Timeout must be a single integer in seconds, or an integer followed by a corresponding time unit (e.g. 1s | 2m | 3h)".to_string()
    };
    let text = input.trim();
    if let Ok(secs) = text.parse::<u64>() {
        return Ok(Duration::from_secs(secs));
    }
    let mut rest = text.strip_prefix('+').unwrap_or(text);
    if rest.is_empty() {
        return Err(invalid());
    }
    let mut total = 0f64;
    while !rest.is_empty() {
        let number_len = rest.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(rest.len());
        let (number, after) = rest.split_at(number_len);
        if number.is_empty() || number == "." {
            return Err(invalid());
        }
        let value: f64 = number.parse().map_err(|_| invalid())?;
        let unit_len = after.find(|c: char| c.is_ascii_digit() || c == '.').unwrap_or(after.len());
        let (unit, next) = after.split_at(unit_len);
        let nanos_per_unit = match unit {
            "ns" => 1.0,
            "us" | "µs" | "μs" => 1e3,
            "ms" => 1e6,
            "s" => 1e9,
            "m" => 60e9,
            "h" => 3600e9,
            _ => return Err(invalid()),
        };
        total += value * nanos_per_unit;
        rest = next;
    }
    if !total.is_finite() || total > u64::MAX as f64 {
        return Err(invalid());
    }
    Ok(Duration::from_nanos(total.round() as u64))
}

/// Writes a duration the way Go prints one (`5s`, `500ms`, `1m30s`), for messages about
/// `--request-timeout`.
pub fn format_go_duration(d: Duration) -> String {
    if d < Duration::from_secs(1) {
        return format!("{}ms", d.as_millis());
    }
    let secs = d.as_secs();
    let frac = d.subsec_millis();
    let (h, m, s) = (secs / 3600, secs / 60 % 60, secs % 60);
    let seconds =
        if frac == 0 { format!("{s}s") } else { format!("{s}.{}s", format!("{frac:03}").trim_end_matches('0')) };
    match (h, m) {
        (0, 0) => seconds,
        (0, m) => format!("{m}m{seconds}"),
        (h, m) => format!("{h}h{m}m{seconds}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn age(secs: u64) -> String {
        format_age(Duration::from_secs(secs))
    }

    #[test]
    fn ages_read_like_kubectl_get() {
        // The format itself is pinned in kubeplug-age; this pins the Duration to seconds step.
        assert_eq!(age(45), "45s");
        assert_eq!(age(3 * 3600 + 20 * 60), "3h20m");
        assert_eq!(format_age(Duration::from_millis(119_999)), "119s");
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

    #[test]
    fn go_durations_parse_like_kubectl_request_timeout() {
        let ms = |n: u64| Duration::from_millis(n);
        assert_eq!(parse_go_duration("500ms"), Ok(ms(500)));
        assert_eq!(parse_go_duration("1.5s"), Ok(ms(1500)));
        assert_eq!(parse_go_duration("1m30s"), Ok(ms(90_000)));
        assert_eq!(parse_go_duration("2h"), Ok(ms(7_200_000)));
        assert_eq!(parse_go_duration("5"), Ok(ms(5000)), "a bare number is seconds");
        assert_eq!(parse_go_duration("0"), Ok(ms(0)));
        assert_eq!(parse_go_duration("0s"), Ok(ms(0)));
        assert_eq!(parse_go_duration("250us"), Ok(Duration::from_micros(250)));
        for bad in ["", "soon", "5d", "1.5", "-1s", "ms", "1s2"] {
            assert!(parse_go_duration(bad).is_err(), "{bad:?} must be rejected");
        }
    }

    #[test]
    fn go_durations_print_like_go() {
        assert_eq!(format_go_duration(Duration::from_millis(500)), "500ms");
        assert_eq!(format_go_duration(Duration::from_secs(5)), "5s");
        assert_eq!(format_go_duration(Duration::from_millis(1500)), "1.5s");
        assert_eq!(format_go_duration(Duration::from_secs(90)), "1m30s");
        assert_eq!(format_go_duration(Duration::from_secs(3600)), "1h0m0s");
    }
}
