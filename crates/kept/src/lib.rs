//! Small files the app keeps for itself: written whole (beside the file, flushed, then renamed
//! over it, so a reader sees the old or the new file, never half of one), and JSON-lines lists
//! appended to and kept to their latest entries; and how much room is left for them
//! ([`free_bytes`]).

mod space;

pub use space::free_bytes;

use std::io::Write;
use std::path::Path;

use serde::Serialize;
use serde::de::DeserializeOwned;

/// Writes `bytes` beside `path`, flushes them and renames the file over `path`.
pub fn write_aside(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let aside = path.with_extension(format!("{}.new", uuid::Uuid::now_v7().simple()));
    let written = std::fs::File::create(&aside).and_then(|mut file| {
        file.write_all(bytes)?;
        file.sync_all()
    });
    written
        .and_then(|()| std::fs::rename(&aside, path))
        .inspect_err(|_| {
            let _ = std::fs::remove_file(&aside);
        })
}

/// Appends `items` to the JSON-lines file at `path` (its folder made if needed); past twice
/// `keep` lines the file is cut to the latest `keep`.
pub fn append_lines<T: Serialize + DeserializeOwned>(
    path: &Path,
    items: &[T],
    keep: usize,
) -> std::io::Result<()> {
    if items.is_empty() {
        return Ok(());
    }
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)?
        .write_all(&to_lines(items)?)?;
    let all: Vec<T> = read_lines(path);
    if all.len() > 2 * keep {
        write_aside(path, &to_lines(&all[all.len() - keep..])?)?;
    }
    Ok(())
}

/// The entries of a JSON-lines file, oldest first; unreadable lines are passed over, and a
/// missing file is an empty list.
pub fn read_lines<T: DeserializeOwned>(path: &Path) -> Vec<T> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .filter_map(|line| serde_json::from_str(line).ok())
        .collect()
}

fn to_lines<T: Serialize>(items: &[T]) -> std::io::Result<Vec<u8>> {
    let mut text = Vec::new();
    for item in items {
        serde_json::to_writer(&mut text, item).map_err(std::io::Error::other)?;
        text.push(b'\n');
    }
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_list_is_appended_to_and_kept_to_its_latest_entries() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("list/items.jsonl");
        for n in 0..7u32 {
            append_lines(&path, &[n], 3).unwrap();
        }
        // Cut back to 3 once past 6; one more appended since.
        assert_eq!(read_lines::<u32>(&path), [4, 5, 6]);
        std::fs::write(&path, "1\nnot json\n2\n").unwrap();
        assert_eq!(read_lines::<u32>(&path), [1, 2]);
        write_aside(&path, b"9\n").unwrap();
        assert_eq!(read_lines::<u32>(&path), [9]);
        assert_eq!(
            std::fs::read_dir(path.parent().unwrap()).unwrap().count(),
            1,
            "nothing left aside"
        );
    }
}
