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
    write_synced(&aside, bytes)
        .and_then(|()| std::fs::rename(&aside, path))
        .inspect_err(|_| {
            let _ = std::fs::remove_file(&aside);
        })?;
    sync_folder_of(path);
    Ok(())
}

/// Writes `bytes` as the new file `path` and flushes them to the disk, so a rename of it that
/// survives a power cut finds the whole file there, not an empty one.
pub fn write_synced(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut file = std::fs::File::create(path)?;
    file.write_all(bytes)?;
    file.sync_all()
}

/// Flushes the folder holding `path`, so a rename into it is on the disk (Unix; Windows has no
/// such call, and its renames are journalled).
fn sync_folder_of(path: &Path) {
    #[cfg(unix)]
    if let Some(folder) = path.parent().filter(|p| !p.as_os_str().is_empty())
        && let Ok(folder) = std::fs::File::open(folder)
    {
        let _ = folder.sync_all();
    }
    #[cfg(not(unix))]
    let _ = path;
}

/// Appends `items` to the JSON-lines file at `path` (its folder made if needed); past twice
/// `keep` lines the file is cut to the latest `keep`. Writers (threads, or the app and the tray
/// agent) take turns through a lock on `path` with `.lock` added, so a cut never drops lines
/// another writer appended meanwhile.
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
    let mut lock_name = path.as_os_str().to_owned();
    lock_name.push(".lock");
    let turn = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(std::path::PathBuf::from(lock_name))?;
    turn.lock()?;
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)?
        .write_all(&to_lines(items)?)?;
    let all: Vec<T> = read_lines(path);
    if all.len() > 2 * keep {
        write_aside(path, &to_lines(&all[all.len() - keep..])?)?;
    }
    // The turn ends when `turn` is closed.
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
        let names: Vec<String> = std::fs::read_dir(path.parent().unwrap())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert!(
            names
                .iter()
                .all(|n| n == "items.jsonl" || n == "items.jsonl.lock"),
            "nothing left aside: {names:?}"
        );
    }

    #[test]
    fn writers_at_once_lose_no_line_when_the_list_is_cut() {
        // Before, a writer that cut the list (read, then rewrote it) dropped the lines another
        // wrote in between.
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("answers.jsonl");
        const WRITERS: u32 = 8;
        const LINES: u32 = 500;
        // In rounds: every writer appends one line at once, then looks for it. A round's 8
        // lines are among the latest 20, so each is there unless another writer's cut dropped it.
        let lost = std::sync::atomic::AtomicU32::new(0);
        let round = std::sync::Barrier::new(WRITERS as usize);
        std::thread::scope(|scope| {
            for writer in 0..WRITERS {
                let (path, lost, round) = (&path, &lost, &round);
                scope.spawn(move || {
                    for line in 0..LINES {
                        append_lines(path, &[(writer, line)], 20).unwrap();
                        round.wait();
                        if !read_lines::<(u32, u32)>(path).contains(&(writer, line)) {
                            lost.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        }
                        round.wait();
                    }
                });
            }
        });
        assert_eq!(lost.into_inner(), 0, "lines lost to another writer's cut");
        let kept: Vec<(u32, u32)> = read_lines(&path);
        assert!((20..=40).contains(&kept.len()), "{}", kept.len());
        // The list keeps the latest lines: each writer's are the end of what it wrote, with no
        // gap, and the one that wrote last kept its last line.
        for writer in 0..WRITERS {
            let lines: Vec<u32> = kept
                .iter()
                .filter(|(w, _)| *w == writer)
                .map(|(_, l)| *l)
                .collect();
            if let Some(&first) = lines.first() {
                assert_eq!(lines, (first..LINES).collect::<Vec<_>>(), "writer {writer}");
            }
        }
        let (last_writer, last_line) = *kept.last().unwrap();
        assert_eq!(last_line, LINES - 1, "writer {last_writer}");
    }
}
