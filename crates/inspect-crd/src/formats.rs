//! String formats (`format:` in a schema) parsed the way Go parses them on the server.

/// Go's `time.ParseDuration`: `[-+]` then one or more `NUMBER UNIT` (`1h30m`, `1.5s`, `300ms`),
/// units `ns`, `us`, `µs`, `ms`, `s`, `m`, `h`; a bare `0` is zero.
pub fn go_duration(s: &str) -> Option<chrono::Duration> {
    let (negative, mut rest) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    if rest == "0" {
        return Some(chrono::Duration::zero());
    }
    if rest.is_empty() {
        return None;
    }
    let mut nanos: i128 = 0;
    while !rest.is_empty() {
        let digits = rest.find(|c: char| !c.is_ascii_digit() && c != '.').unwrap_or(rest.len());
        let number = &rest[..digits];
        if number.is_empty() || number == "." || number.matches('.').count() > 1 {
            return None;
        }
        rest = &rest[digits..];
        let unit_len = rest.find(|c: char| c.is_ascii_digit() || c == '.').unwrap_or(rest.len());
        let scale: i128 = match &rest[..unit_len] {
            "ns" => 1,
            "us" | "µs" | "μs" => 1_000,
            "ms" => 1_000_000,
            "s" => 1_000_000_000,
            "m" => 60_000_000_000,
            "h" => 3_600_000_000_000,
            _ => return None,
        };
        rest = &rest[unit_len..];
        let (whole, frac) = number.split_once('.').unwrap_or((number, ""));
        let whole: i128 = if whole.is_empty() { 0 } else { whole.parse().ok()? };
        let mut part = whole.checked_mul(scale)?;
        if !frac.is_empty() {
            let digits = frac.len().min(18) as u32;
            let f: i128 = frac[..digits as usize].parse().ok()?;
            part += f * scale / 10i128.pow(digits);
        }
        nanos = nanos.checked_add(part)?;
    }
    if nanos > i64::MAX as i128 {
        return None;
    }
    let nanos = nanos as i64;
    Some(chrono::Duration::nanoseconds(if negative { -nanos } else { nanos }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_parse_as_in_go() {
        let secs = |s: &str| go_duration(s).map(|d| d.num_milliseconds());
        assert_eq!(secs("1h30m"), Some(5_400_000));
        assert_eq!(secs("1.5s"), Some(1_500));
        assert_eq!(secs("300ms"), Some(300));
        assert_eq!(secs("-2m"), Some(-120_000));
        assert_eq!(secs("0"), Some(0));
        assert_eq!(secs("10"), None);
        assert_eq!(secs("1d"), None);
        assert_eq!(secs(""), None);
    }
}
