//! Reading lines with bounded memory.
//!
//! A line is handed over as it sits in the reader's buffer when it can be (no copy); otherwise it
//! is gathered, but never beyond [`MAX_CHUNK`] bytes. A longer line is handed over in pieces of at
//! most that size, each cut just after the last whitespace or delimiter in its final
//! [`CUT_WINDOW`] bytes so a value is not split in two; only a line with no such byte in that
//! window is cut hard (a secret straddling a hard cut may be missed or partly replaced).

use std::io::{self, BufRead};

/// The most bytes redacted at once: longer lines are processed in pieces of this size.
pub const MAX_CHUNK: usize = 1 << 20;

/// How far back from a piece's end a cut looks for whitespace or a delimiter.
pub const CUT_WINDOW: usize = 4096;

/// Calls `each` with every line of `reader` (newline included), or piece of a line longer than
/// [`MAX_CHUNK`]; concatenated, the pieces are exactly the input.
pub(crate) fn for_each_line<R: BufRead>(
    mut reader: R,
    mut each: impl FnMut(&[u8]) -> io::Result<()>,
) -> io::Result<()> {
    let mut pending: Vec<u8> = Vec::new();
    loop {
        let buffer = match reader.fill_buf() {
            Ok(buffer) => buffer,
            Err(error) if error.kind() == io::ErrorKind::Interrupted => continue,
            Err(error) => return Err(error),
        };
        if buffer.is_empty() {
            break;
        }
        let window = &buffer[..buffer.len().min(MAX_CHUNK - pending.len())];
        let used = match memchr::memchr(b'\n', window) {
            Some(newline) => {
                let line = &window[..=newline];
                if pending.is_empty() {
                    each(line)?;
                } else {
                    pending.extend_from_slice(line);
                    each(&pending)?;
                    pending.clear();
                }
                newline + 1
            }
            None => {
                pending.extend_from_slice(window);
                window.len()
            }
        };
        reader.consume(used);
        if pending.len() == MAX_CHUNK {
            let cut = cut_point(&pending);
            each(&pending[..cut])?;
            pending.drain(..cut);
        }
    }
    if !pending.is_empty() {
        each(&pending)?;
    }
    Ok(())
}

/// Where to end a piece of a long line: after the last whitespace or delimiter in the final
/// [`CUT_WINDOW`] bytes, or at the end.
pub fn cut_point(piece: &[u8]) -> usize {
    let from = piece.len().saturating_sub(CUT_WINDOW);
    piece[from..]
        .iter()
        .rposition(|byte| {
            matches!(
                byte,
                b' ' | b'\t' | b'\r' | b',' | b';' | b'&' | b'"' | b'\'' | b'<' | b'>'
            )
        })
        .map_or(piece.len(), |at| from + at + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pieces(input: &[u8], capacity: usize) -> Vec<Vec<u8>> {
        let reader = io::BufReader::with_capacity(capacity, input);
        let mut pieces = Vec::new();
        for_each_line(reader, |piece| {
            pieces.push(piece.to_vec());
            Ok(())
        })
        .unwrap();
        pieces
    }

    #[test]
    fn lines_whole_whatever_the_buffer_size() {
        let input = b"one\ntwo two\r\n\nlast without newline";
        for capacity in [1, 2, 3, 7, 64, 8192] {
            assert_eq!(
                pieces(input, capacity),
                [
                    &b"one\n"[..],
                    b"two two\r\n",
                    b"\n",
                    b"last without newline"
                ],
                "capacity {capacity}"
            );
        }
        assert!(pieces(b"", 16).is_empty());
    }

    #[test]
    fn long_lines_are_cut_after_a_delimiter_and_never_exceed_the_bound() {
        let mut line = vec![b'a'; MAX_CHUNK - 100];
        line.push(b' ');
        line.extend(vec![b'b'; 300]);
        line.push(b'\n');
        let got = pieces(&line, 64 * 1024);
        assert_eq!(got.len(), 2);
        assert_eq!(got[0].len(), MAX_CHUNK - 99, "cut just after the space");
        assert_eq!(got.concat(), line);

        let solid = vec![b'x'; 3 * MAX_CHUNK + 5];
        let got = pieces(&solid, 64 * 1024);
        assert_eq!(
            got.iter().map(Vec::len).collect::<Vec<_>>(),
            [MAX_CHUNK, MAX_CHUNK, MAX_CHUNK, 5]
        );
    }
}
