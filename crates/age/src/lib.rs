//! kubectl's AGE format, once for the whole workspace.
//!
//! The API server's Table printer and kubectl both write ages with apimachinery's
//! `duration.HumanDuration`; the plugins' AGE column (`kubeplug::age`) and apiserver-fake's
//! Tables must read the same. This crate depends on nothing so that the fake stays free of client
//! code and the client free of server code. A formatting bug cannot agree with itself unseen: the
//! fake's Tables are compared value by value with the real kube-apiserver's (testenv's
//! faithfulness test), and the values below are written by hand from apimachinery's rules.

/// Formats an age of `seconds` like apimachinery's `HumanDuration` (`45s`, `5m30s`, `12m`,
/// `3h20m`, `3h`, `5d`, `2y`). Up to one second in the future reads `0s`, as there (clock skew
/// between machines); further in the future is `<invalid>`.
pub fn human_duration(seconds: i64) -> String {
    if seconds < -1 {
        return "<invalid>".into();
    }
    if seconds < 0 {
        return "0s".into();
    }
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
        let (days, h) = (hours / 24, hours % 24);
        return if h == 0 { format!("{days}d") } else { format!("{days}d{h}h") };
    }
    if hours < 24 * 365 * 2 {
        return format!("{}d", hours / 24);
    }
    if hours < 24 * 365 * 8 {
        let (years, days) = (hours / 24 / 365, (hours / 24) % 365);
        return if days == 0 { format!("{years}y") } else { format!("{years}y{days}d") };
    }
    format!("{}y", hours / 24 / 365)
}

#[cfg(test)]
mod tests {
    use super::human_duration as age;

    #[test]
    fn ages_read_like_kubectl_get() {
        assert_eq!(age(0), "0s");
        assert_eq!(age(45), "45s");
        assert_eq!(age(59), "59s");
        assert_eq!(age(119), "119s");
        assert_eq!(age(120), "2m");
        assert_eq!(age(150), "2m30s");
        assert_eq!(age(330), "5m30s");
        assert_eq!(age(12 * 60), "12m");
        assert_eq!(age(179 * 60), "179m");
        assert_eq!(age(3 * 3600), "3h");
        assert_eq!(age(3 * 3600 + 20 * 60), "3h20m");
        assert_eq!(age(5 * 3600 + 60), "5h1m");
        assert_eq!(age(20 * 3600), "20h");
        assert_eq!(age(30 * 3600), "30h");
        assert_eq!(age(3 * 86_400 + 3600), "3d1h");
        assert_eq!(age(5 * 86_400), "5d");
        assert_eq!(age(5 * 86_400 + 3 * 3600), "5d3h");
        assert_eq!(age(40 * 86_400), "40d");
        assert_eq!(age(2 * 365 * 86_400), "2y");
        assert_eq!(age(3 * 365 * 86_400 + 10 * 86_400), "3y10d");
        assert_eq!(age(9 * 365 * 86_400), "9y");
    }

    #[test]
    fn the_future_is_zero_within_a_second_and_invalid_beyond() {
        assert_eq!(age(-1), "0s");
        assert_eq!(age(-2), "<invalid>");
    }
}
