//! Phone numbers: international (`+CC …`) and the common national shapes.
//!
//! A number is a run of digit groups joined by single separators (space, `-`, `.`), a group
//! possibly in parentheses. Three shapes are accepted:
//!
//! - **international**: `+` (not after a letter or digit, so `…56+01:00` is a time zone) and
//!   8 to 15 digits in any grouping: `+1 425 555 0100`, `+44 (0)20 7946 0958`, `+4930123456`;
//! - **North American**: `[2-9]dd[2-9]dd dddd` as `(425) 555-0100`, `425-555-0100`,
//!   `425.555.0100`, `425 555 0100`, optionally after `1-`;
//! - **national trunk prefix** (most of Europe, Asia, Africa): starts with `0` then not `0`, two or
//!   more groups of at least two digits with one kind of separator, 9 to 12 digits in all:
//!   `020 7946 0958`, `06 12 34 56 78`, `030-1234567`.
//!
//! Anything else stays: dates and times (`2024-01-09`, `09.01.2024`, `10:15:30`), versions,
//! addresses, UUID groups, ports, durations, counters and status codes. A group run that touches
//! a letter, or continues with `-`, `.`, `:` or `/` and a digit, is not a number. National numbers
//! written without separators (`0612345678`) look like counters and are left alone.

use crate::bytes::{Hit, is_word, word_at, word_before};
use crate::kind::Kind;

const MAX_GROUPS: usize = 12;

/// `byte` in every byte of a word.
const fn repeat(byte: u8) -> u64 {
    u64::from_ne_bytes([byte; 8])
}

const HIGH: u64 = repeat(0x80);
const LOW7: u64 = repeat(0x7f);

/// High bit of each byte of `x` (every byte below 0x80) set where that byte is `>= c`
/// (`1 <= c <= 0x80`); no carry crosses bytes.
#[inline]
fn at_least(x: u64, c: u8) -> u64 {
    x.wrapping_add(repeat(0x80 - c)) & HIGH
}

/// High bit of each byte of `x` (every byte below 0x80) set where that byte is `c`.
#[inline]
fn equal(x: u64, c: u8) -> u64 {
    !(x ^ repeat(c)).wrapping_add(LOW7) & HIGH
}

/// The high bits of a word's bytes as 8 bits, byte 0 first.
#[inline]
fn gather(flags: u64) -> u64 {
    (flags >> 7).wrapping_mul(0x0102_0408_1020_4080) >> 56
}

/// Per-byte flags of 8 bytes as bit masks (see [`block_masks`]).
#[inline]
fn word_masks(word: u64) -> (u64, u64, u64) {
    let ascii = !word & HIGH;
    let x = word & LOW7;
    let digits = at_least(x, b'0') & !at_least(x, b'9' + 1) & ascii;
    let lower = x | repeat(0x20);
    let letters = at_least(lower, b'a') & !at_least(lower, b'z' + 1) & ascii;
    let opens = (equal(x, b'+') | equal(x, b'(')) & ascii;
    // `-./0-9:` are one range.
    let punctuation = at_least(x, b'-') & !at_least(x, b':' + 1) & ascii;
    let blocks = punctuation | letters | opens | (equal(x, b'_') & ascii) | (word & HIGH);
    (gather(digits), gather(blocks), gather(opens))
}

/// Per-byte flags of a 64-byte block, as bit masks: digits; bytes after which no national
/// number starts (word bytes and `.-+:/(`); and `+`/`(`, where a number may start whatever
/// precedes. Eight bytes at a time, without branches: logs are dense with digits, and a branch
/// per byte mispredicts.
#[inline]
fn block_masks(block: &[u8; 64]) -> (u64, u64, u64) {
    let (mut digits, mut blocks, mut opens) = (0u64, 0u64, 0u64);
    for (index, bytes) in block.chunks_exact(8).enumerate() {
        let mut word = [0u8; 8];
        word.copy_from_slice(bytes);
        let (d, b, o) = word_masks(u64::from_le_bytes(word));
        digits |= d << (8 * index);
        blocks |= b << (8 * index);
        opens |= o << (8 * index);
    }
    (digits, blocks, opens)
}

/// [`block_masks`] with AVX2, 32 bytes an instruction: the same masks (a test compares them on
/// every byte value).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn block_masks_avx2(block: &[u8; 64]) -> (u64, u64, u64) {
    use std::arch::x86_64::_mm256_loadu_si256;
    // SAFETY: the block is 64 bytes; each load reads 32 of them, unaligned loads allowed.
    let (low, high) = unsafe {
        (
            _mm256_loadu_si256(block.as_ptr().cast()),
            _mm256_loadu_si256(block.as_ptr().add(32).cast()),
        )
    };
    let (d0, b0, o0) = half_masks_avx2(low);
    let (d1, b1, o1) = half_masks_avx2(high);
    let join = |a: u32, b: u32| u64::from(a) | (u64::from(b) << 32);
    (join(d0, d1), join(b0, b1), join(o0, o1))
}

/// The masks of 32 bytes. Bytes are compared as signed: every byte from 0x80 up is negative, so
/// it falls in none of the ASCII ranges, and its sign bit alone marks it.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn half_masks_avx2(x: std::arch::x86_64::__m256i) -> (u32, u32, u32) {
    use std::arch::x86_64::*;
    let digits = within_avx2(x, b'0', b'9');
    let letters = within_avx2(_mm256_or_si256(x, _mm256_set1_epi8(0x20)), b'a', b'z');
    let opens = _mm256_or_si256(
        _mm256_cmpeq_epi8(x, _mm256_set1_epi8(b'+' as i8)),
        _mm256_cmpeq_epi8(x, _mm256_set1_epi8(b'(' as i8)),
    );
    // `-./0-9:` are one range.
    let punctuation = within_avx2(x, b'-', b':');
    let underscore = _mm256_cmpeq_epi8(x, _mm256_set1_epi8(b'_' as i8));
    let blocks = _mm256_or_si256(
        _mm256_or_si256(punctuation, letters),
        _mm256_or_si256(_mm256_or_si256(opens, underscore), x),
    );
    (
        _mm256_movemask_epi8(digits) as u32,
        _mm256_movemask_epi8(blocks) as u32,
        _mm256_movemask_epi8(opens) as u32,
    )
}

/// All ones in each byte of `x` within `low..=high` (ASCII bounds, `low` above 0).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn within_avx2(x: std::arch::x86_64::__m256i, low: u8, high: u8) -> std::arch::x86_64::__m256i {
    use std::arch::x86_64::*;
    _mm256_and_si256(
        _mm256_cmpgt_epi8(x, _mm256_set1_epi8((low - 1) as i8)),
        _mm256_cmpgt_epi8(_mm256_set1_epi8((high + 1) as i8), x),
    )
}

/// The masks of [`block_masks`], with AVX2 where the processor has it.
#[inline]
fn masks_of(block: &[u8; 64], avx2: bool) -> (u64, u64, u64) {
    #[cfg(target_arch = "x86_64")]
    if avx2 {
        // SAFETY: `avx2` is true only where the processor has AVX2 (see `find`).
        return unsafe { block_masks_avx2(block) };
    }
    let _ = avx2;
    block_masks(block)
}

/// Whether the processor has AVX2 (asked once; the standard library keeps the answer).
#[inline]
fn has_avx2() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::arch::is_x86_feature_detected!("avx2")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

pub(crate) fn find(line: &[u8], hits: &mut Vec<Hit>) {
    // Where a number may start is marked 64 bytes at a time (a digit after a byte that does not
    // block, or `+`/`(`): logs are dense with digits, and a branch per byte mispredicts.
    let avx2 = has_avx2();
    let mut resume = 0;
    let mut carry = 0u64; // whether the byte before the block blocks
    let mut padded = [0u8; 64];
    for (index, chunk) in line.chunks(64).enumerate() {
        let block: &[u8; 64] = match chunk.try_into() {
            Ok(block) => block,
            Err(_) => {
                padded[..chunk.len()].copy_from_slice(chunk);
                padded[chunk.len()..].fill(b' ');
                &padded
            }
        };
        let (digits, blocks, opens) = masks_of(block, avx2);
        let mut starts = (digits & !((blocks << 1) | carry)) | opens;
        carry = blocks >> 63;
        while starts != 0 {
            let at = index * 64 + starts.trailing_zeros() as usize;
            starts &= starts - 1;
            if at < resume || at >= line.len() {
                continue;
            }
            let found = if line[at] == b'+' {
                international(line, at)
            } else {
                national(line, at)
            };
            if let Some(hit) = found {
                resume = hit.end;
                hits.push(hit);
            }
        }
    }
}

/// Digit groups parsed from one position.
struct Groups {
    /// Each group's end (after its `)` if parenthesized).
    ends: [usize; MAX_GROUPS],
    lens: [u8; MAX_GROUPS],
    count: usize,
    digits: usize,
    /// Separators seen between groups: bit 0 space, bit 1 `-`, bit 2 `.`.
    separators: u8,
    /// Index of the group written in parentheses, if any.
    parenthesized: Option<usize>,
    /// A second parenthesized group (not a phone shape).
    extra_parens: bool,
}

impl Groups {
    fn lens(&self) -> &[u8] {
        &self.lens[..self.count]
    }

    fn end(&self) -> usize {
        self.ends[self.count - 1]
    }

    /// Drops a trailing one-digit group: `+1 425 555 0100 2 times` ends before the `2`.
    fn drop_single_digit_tail(&mut self) {
        if self.count > 1 && self.lens[self.count - 1] == 1 {
            self.count -= 1;
            self.digits -= 1;
        }
    }
}

/// Parses groups from `start`; `None` if there is not even one.
fn parse(line: &[u8], start: usize) -> Option<Groups> {
    let mut groups = Groups {
        ends: [0; MAX_GROUPS],
        lens: [0; MAX_GROUPS],
        count: 0,
        digits: 0,
        separators: 0,
        parenthesized: None,
        extra_parens: false,
    };
    let mut at = start;
    while groups.count < MAX_GROUPS {
        let open = line.get(at) == Some(&b'(');
        let digits_start = at + usize::from(open);
        let mut cursor = digits_start;
        while cursor < line.len() && line[cursor].is_ascii_digit() {
            cursor += 1;
        }
        let len = cursor - digits_start;
        if len == 0 || len > 15 {
            break;
        }
        if open {
            if line.get(cursor) != Some(&b')') {
                break;
            }
            cursor += 1;
            if groups.parenthesized.is_some() {
                groups.extra_parens = true;
            }
            groups.parenthesized = Some(groups.count);
        }
        groups.ends[groups.count] = cursor;
        groups.lens[groups.count] = len as u8;
        groups.count += 1;
        groups.digits += len;

        let (separator, next) = match line.get(cursor) {
            Some(b' ') => (1, cursor + 1),
            Some(b'-') => (2, cursor + 1),
            Some(b'.') => (4, cursor + 1),
            _ if open => (0, cursor),
            _ => break,
        };
        let continues = match line.get(next) {
            Some(byte) if byte.is_ascii_digit() => true,
            Some(b'(') => line.get(next + 1).is_some_and(u8::is_ascii_digit),
            _ => false,
        };
        if !continues {
            break;
        }
        groups.separators |= separator;
        at = next;
    }
    (groups.count > 0).then_some(groups)
}

/// Whether the number ending at `end` is really over: no letter, and no `-`, `.`, `:` or `/`
/// followed by a digit (a longer structure such as a date or version).
fn ends_cleanly(line: &[u8], end: usize) -> bool {
    if word_at(line, end) {
        return false;
    }
    match line.get(end) {
        Some(b'-' | b'.' | b':' | b'/') => !line.get(end + 1).is_some_and(u8::is_ascii_digit),
        _ => true,
    }
}

fn international(line: &[u8], plus: usize) -> Option<Hit> {
    if word_before(line, plus) || (plus > 0 && line[plus - 1] == b'+') {
        return None;
    }
    if !line.get(plus + 1).is_some_and(u8::is_ascii_digit) {
        return None;
    }
    let mut groups = parse(line, plus + 1)?;
    groups.drop_single_digit_tail();
    let end = groups.end();
    if !(8..=15).contains(&groups.digits) || groups.extra_parens || !ends_cleanly(line, end) {
        return None;
    }
    let mut norm = vec![b'+'];
    norm.extend(
        line[plus + 1..end]
            .iter()
            .copied()
            .filter(u8::is_ascii_digit),
    );
    Some(Hit::normalized(plus, end, Kind::Phone, norm))
}

fn national(line: &[u8], start: usize) -> Option<Hit> {
    if start > 0 {
        let before = line[start - 1];
        if is_word(before) || matches!(before, b'.' | b'-' | b'+' | b':' | b'/' | b'(') {
            return None;
        }
    }
    let first = if line[start] == b'(' {
        *line.get(start + 1)?
    } else {
        line[start]
    };
    if !first.is_ascii_digit() {
        return None;
    }
    // Every national shape has two groups or more: a lone run of digits (a count, a duration, a
    // status code) ends here, before its groups are parsed.
    if line[start] != b'(' {
        let run = line[start..]
            .iter()
            .position(|byte| !byte.is_ascii_digit())
            .map_or(line.len(), |len| start + len);
        // As `parse` goes on to a second group: a separator, then a digit or `(` and a digit.
        let separated = matches!(line.get(run), Some(b' ' | b'-' | b'.'))
            && match line.get(run + 1) {
                Some(byte) if byte.is_ascii_digit() => true,
                Some(b'(') => line.get(run + 2).is_some_and(u8::is_ascii_digit),
                _ => false,
            };
        if !separated {
            return None;
        }
    }
    let groups = parse(line, start)?;
    let end = groups.end();
    if groups.count < 2 || groups.extra_parens || !ends_cleanly(line, end) {
        return None;
    }
    let digits: Vec<u8> = line[start..end]
        .iter()
        .copied()
        .filter(u8::is_ascii_digit)
        .collect();
    let ok = north_american(&groups, &digits) || trunk(&groups, &digits);
    ok.then(|| Hit::normalized(start, end, Kind::Phone, digits))
}

fn one_separator_kind(groups: &Groups) -> bool {
    groups.separators.count_ones() <= 1
}

fn north_american(groups: &Groups, digits: &[u8]) -> bool {
    let (lens, digits, offset) = match groups.lens() {
        [1, rest @ ..] if digits[0] == b'1' => (rest, &digits[1..], 1),
        lens => (lens, digits, 0),
    };
    if lens != [3, 3, 4] || !(b'2'..=b'9').contains(&digits[0]) || digits[3] < b'2' {
        return false;
    }
    match groups.parenthesized {
        None => one_separator_kind(groups),
        Some(index) => index == offset,
    }
}

fn trunk(groups: &Groups, digits: &[u8]) -> bool {
    digits[0] == b'0'
        && digits[1] != b'0'
        && (9..=12).contains(&digits.len())
        && groups.lens().iter().all(|&len| len >= 2)
        && match groups.parenthesized {
            None => one_separator_kind(groups),
            Some(index) => index == 0,
        }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn block_masks_match_a_byte_by_byte_reading() {
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        for round in 0..64 {
            let mut block = [0u8; 64];
            for (i, byte) in block.iter_mut().enumerate() {
                state = state
                    .wrapping_mul(6_364_136_223_846_793_005)
                    .wrapping_add(1);
                // Every byte value appears: in order in the first rounds, then at random.
                *byte = if round < 4 {
                    (round * 64 + i) as u8
                } else {
                    (state >> 56) as u8
                };
            }
            // Both readings: eight bytes at a time, and AVX2 where this processor has it.
            let mut readings = vec![block_masks(&block)];
            if has_avx2() {
                readings.push(masks_of(&block, true));
            }
            for (digits, blocks, opens) in readings {
                for (i, &byte) in block.iter().enumerate() {
                    let bit = |mask: u64| mask >> i & 1 == 1;
                    assert_eq!(bit(digits), byte.is_ascii_digit(), "digit {byte:#x}");
                    assert_eq!(bit(opens), matches!(byte, b'+' | b'('), "open {byte:#x}");
                    let blocking =
                        is_word(byte) || matches!(byte, b'.' | b'-' | b'+' | b':' | b'/' | b'(');
                    assert_eq!(bit(blocks), blocking, "block {byte:#x}");
                }
            }
        }
    }

    fn found(line: &str) -> Vec<&str> {
        let mut hits = Vec::new();
        find(line.as_bytes(), &mut hits);
        hits.iter().map(|hit| &line[hit.start..hit.end]).collect()
    }

    #[test]
    fn international_numbers() {
        assert_eq!(found("call +1 425 555 0100 now"), ["+1 425 555 0100"]);
        assert_eq!(found("tel:+14255550100;x"), ["+14255550100"]);
        assert_eq!(found("+44 (0)20 7946 0958"), ["+44 (0)20 7946 0958"]);
        assert_eq!(found("+49-30-1234567."), ["+49-30-1234567"]);
        assert_eq!(found("+1 425 555 0100 2 times"), ["+1 425 555 0100"]);
    }

    #[test]
    fn national_numbers() {
        assert_eq!(found("(425) 555-0100"), ["(425) 555-0100"]);
        assert_eq!(found("at 425-555-0100,"), ["425-555-0100"]);
        assert_eq!(found("1-800-555-0199"), ["1-800-555-0199"]);
        assert_eq!(found("425.555.0100"), ["425.555.0100"]);
        assert_eq!(found("020 7946 0958"), ["020 7946 0958"]);
        assert_eq!(found("06 12 34 56 78"), ["06 12 34 56 78"]);
        assert_eq!(found("030-1234567"), ["030-1234567"]);
    }

    #[test]
    fn not_numbers() {
        for line in [
            "2024-01-09T15:07:56.066+01:00",
            "2024-01-09 15:07:56,123",
            "09.01.2024 10:15:30",
            "1.19.2.2_beta 1.31.1.0 10.0.19045",
            "92d800c4-abde-40be-91e9-3814ee786b19",
            "00000000-0000-0000-0000-000000000000",
            "12345678-1234-1234-1234-123456789012",
            "took 10012 ms, status 200, port 5060, seq 0612345678",
            "UTC+2 x+12345678",
            "125-555-0100 (area code cannot start with 1)",
            "425-555-0100-7",
            "00 44 20",
            "+12345 short",
            "ratio 1 234 567",
        ] {
            assert!(found(line).is_empty(), "{line}: {:?}", found(line));
        }
    }
}
