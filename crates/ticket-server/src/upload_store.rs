//! The uploads in progress on disk, for [`crate::uploads`]: in `<data>/uploads/`, a data file and
//! a small JSON record each. An upload's offset is its data file's length, so a restarted server
//! goes on where the disk says. One that is untouched for its time (or older than
//! [`MAX_UPLOAD_LIFE`]) expires: it is refused with `410` and removed, and a sweep at start and
//! every few minutes removes the rest.
//!
//! Several server instances may share the data folder: a writer holds a lock on the upload's
//! `.lock` file as well as its place in this instance's memory, and the sweep leaves files with no
//! record alone for a while, since another instance may be making that upload.
//!
//! What unfinished uploads may reserve is bounded ([`UploadQuotas`]): per client address, in all,
//! and by the disk's free space, so creating uploads cannot fill the disk.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use anyhow::Context;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::problem::ApiProblem;

/// The longest an upload lives, however often it is touched.
pub const MAX_UPLOAD_LIFE: chrono::TimeDelta = chrono::TimeDelta::days(7);

/// What unfinished uploads may hold.
#[derive(Debug, Clone, Copy)]
pub struct UploadQuotas {
    /// Unfinished uploads one client address may have.
    pub per_client: usize,
    /// Bytes (by their `Upload-Length`) one client address's unfinished uploads may reserve.
    pub bytes_per_client: u64,
    /// Bytes all unfinished uploads may reserve.
    pub bytes_total: u64,
    /// Free disk space that must be left once every unfinished upload is complete.
    pub min_free_bytes: u64,
}

impl UploadQuotas {
    /// Quotas for bundles of up to `max_bundle_bytes`: 20 uploads and four bundles' worth per
    /// client, 64 bundles' worth in all, and 2 GiB of disk kept free.
    pub fn for_bundles_of(max_bundle_bytes: u64) -> UploadQuotas {
        UploadQuotas {
            per_client: 20,
            bytes_per_client: max_bundle_bytes.saturating_mul(4),
            bytes_total: max_bundle_bytes.saturating_mul(64),
            min_free_bytes: 2 << 30,
        }
    }
}

/// What a client over its upload quota can do.
const WAIT_FOR_ROOM: &str = "finish or delete (DELETE) an upload started before; unfinished ones are removed 24 hours after their last piece";

/// `507` unless the disk holding `dir` keeps `keep_free` bytes once `needed` more are written.
pub(crate) fn room_on_disk(
    dir: &Path,
    needed: u64,
    keep_free: u64,
    what: &str,
) -> Result<(), ApiProblem> {
    let free = callsupport_kept::free_bytes(dir).unwrap_or(u64::MAX);
    if free < needed.saturating_add(keep_free) {
        tracing::warn!(free, needed, "{what} refused: the disk would be too full");
        return Err(ApiProblem::insufficient_storage(what));
    }
    Ok(())
}

/// How old a file with no record must be before the sweep takes it for left over: another
/// instance on the same data folder may be making that upload right now.
const ORPHAN_AGE: chrono::TimeDelta = chrono::TimeDelta::minutes(10);

/// Whether `path` was last written more than `age` before `now` (an unreadable time counts as
/// old, a time in the future as new).
pub(crate) fn older_than(path: &Path, age: chrono::TimeDelta, now: DateTime<Utc>) -> bool {
    std::fs::metadata(path)
        .and_then(|meta| meta.modified())
        .map_or(true, |written| now - DateTime::<Utc>::from(written) > age)
}

/// What an unfinished upload holds, for the quotas.
#[derive(Debug, Clone)]
struct Held {
    client: String,
    length: u64,
}

/// The uploads in progress, on disk.
pub struct Uploads {
    dir: PathBuf,
    /// How long an upload is kept after its last chunk.
    pub(crate) keep: chrono::Duration,
    quotas: UploadQuotas,
    /// Every unfinished upload and what it holds, kept with the files (they are the truth at
    /// start).
    held: Mutex<HashMap<Uuid, Held>>,
    /// Uploads a `PATCH` is writing to, with the offset it started from: a second one at the
    /// same time is refused, and `HEAD` reports that offset until the first one is done (its
    /// bytes count only once it is, and a checksummed chunk perhaps not at all).
    busy: Mutex<HashMap<Uuid, u64>>,
}

/// What is kept beside an upload's data.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Record {
    pub(crate) length: u64,
    pub(crate) metadata: Option<String>,
    pub(crate) created_at: DateTime<Utc>,
    pub(crate) expires_at: DateTime<Utc>,
    /// The client address that created it (empty in records from before it was kept).
    #[serde(default)]
    pub(crate) client: String,
}

impl Record {
    /// Touched at `now`: kept for `keep` more, but never past [`MAX_UPLOAD_LIFE`] from its start.
    pub(crate) fn touched(&mut self, now: DateTime<Utc>, keep: chrono::Duration) {
        self.expires_at = (now + keep).min(self.created_at + MAX_UPLOAD_LIFE);
    }
}

/// An upload as `HEAD` and `PATCH` see it.
pub(crate) struct Upload {
    pub(crate) record: Record,
    pub(crate) offset: u64,
}

impl Uploads {
    /// Opens `dir` (creating it) and removes what has expired.
    pub fn open(
        dir: &Path,
        keep: chrono::Duration,
        quotas: UploadQuotas,
    ) -> anyhow::Result<Uploads> {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
        let uploads = Uploads {
            dir: dir.to_path_buf(),
            keep,
            quotas,
            held: Mutex::new(HashMap::new()),
            busy: Mutex::new(HashMap::new()),
        };
        uploads.sweep(Utc::now());
        Ok(uploads)
    }

    pub(crate) fn data_path(&self, id: Uuid) -> PathBuf {
        self.dir.join(format!("{id}.bin"))
    }

    fn record_path(&self, id: Uuid) -> PathBuf {
        self.dir.join(format!("{id}.json"))
    }

    /// The file a writer locks, so that two server instances on one data folder never write to
    /// one upload at once.
    fn lock_path(&self, id: Uuid) -> PathBuf {
        self.dir.join(format!("{id}.lock"))
    }

    /// Writes the record whole and synced, then renames it into place.
    pub(crate) fn write_record(&self, id: Uuid, record: &Record) -> std::io::Result<()> {
        callsupport_kept::write_aside(&self.record_path(id), &serde_json::to_vec(record)?)
    }

    /// Creates an upload of `length` bytes for `client`, if the quotas leave room for it.
    pub(crate) fn create(
        &self,
        length: u64,
        metadata: Option<String>,
        client: &str,
        now: DateTime<Utc>,
    ) -> Result<(Uuid, Record), ApiProblem> {
        let mut held = self.held.lock().expect("held uploads");
        self.room_for(&held, client, length)?;
        let id = Uuid::now_v7();
        let record = Record {
            length,
            metadata,
            created_at: now,
            expires_at: now + self.keep,
            client: client.to_owned(),
        };
        let created = std::fs::File::create(self.data_path(id))
            .and_then(|file| file.sync_all())
            .and_then(|()| std::fs::File::create(self.lock_path(id)).map(drop))
            .and_then(|()| self.write_record(id, &record));
        if let Err(err) = created {
            // `held` is locked here: the files only.
            self.remove_files(id);
            return Err(ApiProblem::internal(err));
        }
        held.insert(
            id,
            Held {
                client: client.to_owned(),
                length,
            },
        );
        Ok((id, record))
    }

    /// Whether `client` may reserve `length` more bytes: its count and bytes, all uploads' bytes,
    /// and the disk once every upload is complete.
    fn room_for(
        &self,
        held: &HashMap<Uuid, Held>,
        client: &str,
        length: u64,
    ) -> Result<(), ApiProblem> {
        let quotas = &self.quotas;
        let (mut count, mut bytes, mut total) = (0usize, 0u64, 0u64);
        for upload in held.values() {
            total = total.saturating_add(upload.length);
            if upload.client == client {
                count += 1;
                bytes = bytes.saturating_add(upload.length);
            }
        }
        if count >= quotas.per_client {
            return Err(ApiProblem::new(
                StatusCode::TOO_MANY_REQUESTS,
                "upload_quota_exceeded",
                format!(
                    "this address has {count} unfinished uploads, the most it may have; {}",
                    WAIT_FOR_ROOM
                ),
            ));
        }
        if bytes.saturating_add(length) > quotas.bytes_per_client {
            return Err(ApiProblem::new(
                StatusCode::TOO_MANY_REQUESTS,
                "upload_quota_exceeded",
                format!(
                    "this address's unfinished uploads would hold {} with this one, more than the {} one address may; {}",
                    callsupport_bundle::human_bytes(bytes.saturating_add(length)),
                    callsupport_bundle::human_bytes(quotas.bytes_per_client),
                    WAIT_FOR_ROOM
                ),
            ));
        }
        if total.saturating_add(length) > quotas.bytes_total {
            tracing::warn!(
                total,
                length,
                "upload refused: unfinished uploads at their total"
            );
            return Err(ApiProblem::insufficient_storage("another upload"));
        }
        // Conservative: bytes already written count twice (they are no longer free, and they
        // are in their upload's length).
        room_on_disk(
            &self.dir,
            total.saturating_add(length),
            quotas.min_free_bytes,
            "another upload",
        )?;
        Ok(())
    }

    /// The upload `id`: `404` when there is none, `410` (and gone) once expired.
    pub(crate) fn get(&self, id: &str, now: DateTime<Utc>) -> Result<(Uuid, Upload), ApiProblem> {
        let not_found = || {
            ApiProblem::new(
                StatusCode::NOT_FOUND,
                "upload_not_found",
                format!("there is no upload `{id}`; create one with POST /api/v1/uploads"),
            )
        };
        let id = Uuid::parse_str(id).map_err(|_| not_found())?;
        let record: Record = match std::fs::read(self.record_path(id)) {
            Ok(bytes) => serde_json::from_slice(&bytes).map_err(ApiProblem::internal)?,
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Err(not_found()),
            Err(err) => return Err(ApiProblem::internal(err)),
        };
        if record.expires_at <= now {
            self.remove(id);
            return Err(ApiProblem::new(
                StatusCode::GONE,
                "upload_expired",
                "the upload expired before it was finished; start a new one",
            ));
        }
        let written = std::fs::metadata(self.data_path(id))
            .map_err(ApiProblem::internal)?
            .len();
        let busy_from = self.busy.lock().expect("busy set").get(&id).copied();
        let offset = busy_from.unwrap_or(written);
        Ok((id, Upload { record, offset }))
    }

    pub(crate) fn remove(&self, id: Uuid) {
        self.remove_files(id);
        self.held.lock().expect("held uploads").remove(&id);
    }

    fn remove_files(&self, id: Uuid) {
        let _ = std::fs::remove_file(self.record_path(id));
        let _ = std::fs::remove_file(self.data_path(id));
        let _ = std::fs::remove_file(self.lock_path(id));
    }

    /// Removes every upload that has expired by `now` (but not one a `PATCH` is writing to), and
    /// data with no record; what is left is what the quotas count. Returns how many went.
    pub fn sweep(&self, now: DateTime<Utc>) -> usize {
        // Held throughout, so no upload is created while the folder is read.
        let mut held = self.held.lock().expect("held uploads");
        let Ok(entries) = std::fs::read_dir(&self.dir) else {
            return 0;
        };
        let mut kept = HashMap::new();
        let mut removed = 0;
        let mut data = Vec::new();
        for entry in entries.flatten() {
            let path = entry.path();
            let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
                continue;
            };
            if let Some(id) = name
                .strip_suffix(".bin")
                .or_else(|| name.strip_suffix(".lock"))
                .and_then(|n| Uuid::parse_str(n).ok())
            {
                // Not one another instance is making right now (its data comes before its record).
                if older_than(&path, ORPHAN_AGE, now) {
                    data.push((id, path));
                }
                continue;
            }
            let Some(id) = name
                .strip_suffix(".json")
                .and_then(|n| Uuid::parse_str(n).ok())
            else {
                continue;
            };
            let record = std::fs::read(&path)
                .ok()
                .and_then(|bytes| serde_json::from_slice::<Record>(&bytes).ok());
            let busy = self.busy.lock().expect("busy set").contains_key(&id);
            match record {
                Some(record) if busy || record.expires_at > now => {
                    kept.insert(
                        id,
                        Held {
                            client: record.client,
                            length: record.length,
                        },
                    );
                }
                _ => {
                    self.remove_files(id);
                    removed += 1;
                }
            }
        }
        // Data (or a lock) whose record is gone: an upload removed half-way.
        for (_, path) in data.into_iter().filter(|(id, _)| !kept.contains_key(id)) {
            let _ = std::fs::remove_file(path);
        }
        *held = kept;
        removed
    }

    /// The data of a finished upload named by its id or URL, for a ticket to take over; what is
    /// wrong with it otherwise, in words.
    pub fn finished(&self, named: &str) -> Result<Finished, ApiProblem> {
        let id = named
            .trim_end_matches('/')
            .rsplit('/')
            .next()
            .unwrap_or(named);
        let (id, upload) = self.get(id, Utc::now())?;
        if upload.offset != upload.record.length {
            return Err(ApiProblem::new(
                StatusCode::CONFLICT,
                "upload_unfinished",
                format!(
                    "the upload has {} of its {} bytes; send the rest before creating the ticket",
                    upload.offset, upload.record.length
                ),
            ));
        }
        Ok(Finished {
            id,
            data: self.data_path(id),
            length: upload.record.length,
        })
    }

    /// Forgets a finished upload whose data a ticket took over.
    pub fn done(&self, finished: &Finished) {
        self.remove(finished.id);
    }
}

/// A finished upload: its id, the file that holds its bytes, and how many there are.
pub struct Finished {
    id: Uuid,
    pub data: PathBuf,
    pub length: u64,
}

/// Marks an upload busy while a `PATCH` writes to it: in this instance's memory (so `HEAD`
/// reports where the write began) and by a lock on its lock file (so another instance on the same
/// data folder refuses a second writer too).
pub(crate) struct Busy<'a> {
    uploads: &'a Uploads,
    id: Uuid,
    _lock: std::fs::File,
}

impl<'a> Busy<'a> {
    /// Claims the upload for one writer; the offset it stands at, read once the claim is held.
    pub(crate) fn claim(uploads: &'a Uploads, id: Uuid) -> Result<(Busy<'a>, u64), ApiProblem> {
        let locked = || {
            ApiProblem::new(
                StatusCode::LOCKED,
                "upload_busy",
                "another request is writing to this upload; ask HEAD for the offset and try again",
            )
        };
        let mut busy = uploads.busy.lock().expect("busy set");
        if busy.contains_key(&id) {
            return Err(locked());
        }
        // Made with the upload and removed with it, never in between: a lock file removed and
        // made again would let two writers each hold "the" lock, and one made for an upload
        // being removed would be left behind.
        let open = |create| {
            std::fs::OpenOptions::new()
                .create(create)
                .truncate(false)
                .write(true)
                .open(uploads.lock_path(id))
        };
        let lock = match open(false) {
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => {
                if !uploads.record_path(id).exists() {
                    return Err(ApiProblem::new(
                        StatusCode::NOT_FOUND,
                        "upload_not_found",
                        "the upload was removed meanwhile; create a new one with POST /api/v1/uploads",
                    ));
                }
                // An upload made before lock files were: it gets one now.
                open(true)
            }
            opened => opened,
        }
        .map_err(ApiProblem::internal)?;
        match lock.try_lock() {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => return Err(locked()),
            Err(std::fs::TryLockError::Error(err)) => return Err(ApiProblem::internal(err)),
        }
        let offset = std::fs::metadata(uploads.data_path(id))
            .map_err(ApiProblem::internal)?
            .len();
        busy.insert(id, offset);
        Ok((
            Busy {
                uploads,
                id,
                _lock: lock,
            },
            offset,
        ))
    }
}

impl Drop for Busy<'_> {
    fn drop(&mut self) {
        self.uploads.busy.lock().expect("busy set").remove(&self.id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_upload_untouched_past_its_time_is_gone() {
        let dir = tempfile::tempdir().unwrap();
        let uploads = Uploads::open(
            dir.path(),
            chrono::Duration::hours(24),
            UploadQuotas::for_bundles_of(1 << 20),
        )
        .unwrap();
        let now = Utc::now();
        let (id, record) = uploads.create(10, None, "a", now).unwrap();
        assert_eq!(record.expires_at, now + chrono::Duration::hours(24));
        let (_, upload) = uploads.get(&id.to_string(), now).unwrap();
        assert_eq!((upload.offset, upload.record.length), (0, 10));

        let later = now + chrono::Duration::hours(25);
        let expired = uploads.get(&id.to_string(), later).err().unwrap();
        assert_eq!(
            (expired.status, expired.code),
            (StatusCode::GONE, "upload_expired")
        );
        assert_eq!(
            std::fs::read_dir(dir.path()).unwrap().count(),
            0,
            "its files are removed"
        );

        // The sweep at start-up removes the expired ones and keeps the rest.
        let (old, _) = uploads
            .create(10, None, "a", now - chrono::Duration::hours(30))
            .unwrap();
        let (fresh, _) = uploads.create(10, None, "a", now).unwrap();
        uploads.sweep(now);
        assert!(uploads.get(&old.to_string(), now).is_err());
        assert!(uploads.get(&fresh.to_string(), now).is_ok());
    }
}
