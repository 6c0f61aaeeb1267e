//! `Range: bytes=…` on bundle downloads (RFC 9110 §14): one range is served as `206`, several or
//! an unknown unit get the whole body (`200`), a range past the end is `416`.

/// What a `Range` header asks of a body of `total` bytes.
#[derive(Debug, PartialEq, Eq)]
pub enum RangeAsked {
    /// One satisfiable range, inclusive.
    One(u64, u64),
    /// Several ranges, or a unit or syntax this server does not serve: the whole body is sent.
    Ignored,
    Unsatisfiable,
}

pub fn byte_range(value: &str, total: u64) -> RangeAsked {
    let Some(spec) = value.trim().strip_prefix("bytes=") else {
        return RangeAsked::Ignored;
    };
    if spec.contains(',') {
        return RangeAsked::Ignored;
    }
    let Some((first, last)) = spec.trim().split_once('-') else {
        return RangeAsked::Ignored;
    };
    let (first, last) = (first.trim(), last.trim());
    let parse = |s: &str| s.parse::<u64>().ok();
    let (start, end) = match (first.is_empty(), last.is_empty()) {
        // `bytes=-N`: the last N bytes.
        (true, false) => match parse(last) {
            Some(0) => return RangeAsked::Unsatisfiable,
            Some(n) => (total.saturating_sub(n), total.saturating_sub(1)),
            None => return RangeAsked::Ignored,
        },
        // `bytes=N-`: from N to the end.
        (false, true) => match parse(first) {
            Some(start) => (start, total.saturating_sub(1)),
            None => return RangeAsked::Ignored,
        },
        (false, false) => match (parse(first), parse(last)) {
            (Some(start), Some(end)) if start <= end => (start, end.min(total.saturating_sub(1))),
            _ => return RangeAsked::Ignored,
        },
        (true, true) => return RangeAsked::Ignored,
    };
    if total == 0 || start >= total {
        RangeAsked::Unsatisfiable
    } else {
        RangeAsked::One(start, end)
    }
}

#[cfg(test)]
mod tests {
    use super::{RangeAsked, byte_range};

    #[test]
    fn ranges_are_read_as_rfc_9110_says() {
        assert_eq!(byte_range("bytes=0-99", 1000), RangeAsked::One(0, 99));
        assert_eq!(byte_range("bytes=900-", 1000), RangeAsked::One(900, 999));
        assert_eq!(byte_range("bytes=-100", 1000), RangeAsked::One(900, 999));
        assert_eq!(byte_range("bytes=-5000", 1000), RangeAsked::One(0, 999));
        assert_eq!(
            byte_range("bytes=990-5000", 1000),
            RangeAsked::One(990, 999)
        );
        assert_eq!(byte_range("bytes=1000-", 1000), RangeAsked::Unsatisfiable);
        assert_eq!(byte_range("bytes=-0", 1000), RangeAsked::Unsatisfiable);
        assert_eq!(byte_range("bytes=5-1", 1000), RangeAsked::Ignored);
        assert_eq!(byte_range("bytes=0-1,5-9", 1000), RangeAsked::Ignored);
        assert_eq!(byte_range("items=0-1", 1000), RangeAsked::Ignored);
        assert_eq!(byte_range("bytes=x-", 1000), RangeAsked::Ignored);
    }
}
