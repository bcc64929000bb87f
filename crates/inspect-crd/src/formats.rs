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

/// Whether `s` is a valid `format` as kube-apiserver checks it (go-openapi's strfmt registry,
/// after the apiextensions server strips the formats it does not support: int32, int64, float,
/// double and unknown names are not checked, so they pass here too).
pub fn format_ok(format: &str, s: &str) -> bool {
    use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
    match format {
        "ipv4" => s.parse::<Ipv4Addr>().is_ok(),
        "ipv6" => s.parse::<Ipv6Addr>().is_ok(),
        "cidr" => s.split_once('/').is_some_and(|(ip, bits)| {
            let max = match ip.parse::<IpAddr>() {
                Ok(IpAddr::V4(_)) => 32,
                Ok(IpAddr::V6(_)) => 128,
                Err(_) => return false,
            };
            bits.parse::<u8>().is_ok_and(|b| b <= max)
        }),
        "date-time" | "datetime" => s.parse::<jiff::Timestamp>().is_ok(),
        "date" => s.len() == 10 && s.parse::<jiff::civil::Date>().is_ok(),
        "uuid" => {
            let b = s.as_bytes();
            b.len() == 36
                && b.iter().enumerate().all(|(i, c)| match i {
                    8 | 13 | 18 | 23 => *c == b'-',
                    _ => c.is_ascii_hexdigit(),
                })
        }
        "hostname" => hostname_ok(s),
        "uri" => uri_ok(s),
        "email" => s.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty() && !domain.is_empty() && !s.contains(char::is_whitespace) && hostname_ok(domain)
        }),
        "mac" => mac_ok(s),
        "duration" => go_duration(s).is_some() || strfmt_duration(s),
        "uuid3" | "uuid4" | "uuid5" => {
            let version = &format[4..];
            format_ok("uuid", s) && s[14..15] == *version && (version == "3" || "89abAB".contains(&s[19..20]))
        }
        "byte" => {
            s.len().is_multiple_of(4)
                && s.trim_end_matches('=').len() + 2 >= s.len()
                && s.trim_end_matches('=').bytes().all(|c| c.is_ascii_alphanumeric() || c == b'+' || c == b'/')
        }
        _ => true,
    }
}

/// go-openapi's IsHostname: dot-separated labels of at most 63 characters (letters, digits,
/// `-`, not at either end), 255 at most in all.
fn hostname_ok(s: &str) -> bool {
    let s = s.strip_suffix('.').unwrap_or(s);
    !s.is_empty()
        && s.len() <= 255
        && s.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && label.chars().all(|c| c.is_alphanumeric() || c == '-')
                && !label.starts_with('-')
                && !label.ends_with('-')
        })
}

/// Go's url.ParseRequestURI: an absolute URI (`scheme:...`) or an absolute path, no spaces or
/// control characters.
fn uri_ok(s: &str) -> bool {
    if s.is_empty() || s.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return false;
    }
    if s.starts_with('/') {
        return true;
    }
    match s.split_once(':') {
        Some((scheme, _)) => {
            scheme.starts_with(|c: char| c.is_ascii_alphabetic())
                && scheme.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
        }
        None => false,
    }
}

/// Go's net.ParseMAC: 6, 8 or 20 octets as `xx:xx:..`, `xx-xx-..` or `xxxx.xxxx...`.
fn mac_ok(s: &str) -> bool {
    let hex = |g: &str, n: usize| g.len() == n && g.bytes().all(|b| b.is_ascii_hexdigit());
    let octets = |count: usize| matches!(count, 6 | 8 | 20);
    for sep in [':', '-'] {
        if s.contains(sep) {
            let groups: Vec<&str> = s.split(sep).collect();
            return octets(groups.len()) && groups.iter().all(|g| hex(g, 2));
        }
    }
    let groups: Vec<&str> = s.split('.').collect();
    octets(groups.len() * 2) && groups.iter().all(|g| hex(g, 4))
}

/// go-openapi's duration beyond Go's: `NUMBER UNIT` pairs, spaces allowed, with the units
/// d and w and spelled-out ones (the real server accepts `1d`).
fn strfmt_duration(s: &str) -> bool {
    const UNITS: &[&str] = &[
        "ns", "us", "µs", "ms", "s", "sec", "second", "seconds", "m", "min", "minute", "minutes", "h", "hr", "hour",
        "hours", "d", "day", "days", "w", "wk", "week", "weeks",
    ];
    let mut rest = s.trim();
    if rest.is_empty() {
        return false;
    }
    while !rest.is_empty() {
        let digits = rest.find(|c: char| !c.is_ascii_digit()).unwrap_or(rest.len());
        if digits == 0 {
            return false;
        }
        rest = rest[digits..].trim_start();
        let unit = rest.find(|c: char| c.is_ascii_digit() || c.is_whitespace()).unwrap_or(rest.len());
        if !UNITS.contains(&&rest[..unit]) {
            return false;
        }
        rest = rest[unit..].trim_start();
    }
    true
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

    #[test]
    fn formats_are_checked_as_the_api_server_checks_them() {
        assert!(format_ok("ipv4", "1.2.3.4"));
        assert!(!format_ok("ipv4", "1.2.3"));
        assert!(format_ok("ipv6", "1200:0000:AB00:1234:0000:2552:7777:1313"));
        assert!(!format_ok("ipv6", "example.com"));
        assert!(format_ok("cidr", "10.0.0.0/8"));
        assert!(!format_ok("cidr", "10.0.0.0/33"));
        assert!(format_ok("date-time", "2024-01-02T03:04:05Z"));
        assert!(!format_ok("date-time", "yesterday"));
        assert!(format_ok("uuid", "123e4567-e89b-12d3-a456-426614174000"));
        assert!(format_ok("byte", "aGVsbG8="));
        assert!(!format_ok("byte", "not base64!"));
        assert!(format_ok("int32", "anything"));
        // The real server's answers (kube-apiserver v1.32.13).
        assert!(!format_ok("hostname", "Bad_Host"));
        assert!(!format_ok("hostname", "-a.com"));
        assert!(format_ok("hostname", "Example.com"));
        assert!(!format_ok("uri", "not a uri"));
        assert!(!format_ok("uri", "relative/path"));
        assert!(format_ok("uri", "https://example.com/x"));
        assert!(!format_ok("email", "nope"));
        assert!(!format_ok("mac", "01:02:03"));
        assert!(format_ok("mac", "01:02:03:04:05:06"));
        assert!(format_ok("duration", "1d"));
        assert!(format_ok("duration", "1h30m"));
        assert!(!format_ok("uuid4", "123e4567-e89b-12d3-a456-426614174000"));
        assert!(!format_ok("date", "2024-13-01"));
    }
}
