//! The uploads in progress on disk, for [`crate::uploads`]: in `<data>/uploads/`, a data file and
//! a small JSON record each. An upload's offset is its data file's length, so a restarted server
//! goes on where the disk says. One that is untouched for its time expires: it is refused with
//! `410` and removed, and the server's start sweeps the rest.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use anyhow::Context;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::problem::ApiProblem;

/// The uploads in progress, on disk.
pub struct Uploads {
    dir: PathBuf,
    /// How long an upload is kept after its last chunk.
    pub(crate) keep: chrono::Duration,
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
}

/// An upload as `HEAD` and `PATCH` see it.
pub(crate) struct Upload {
    pub(crate) record: Record,
    pub(crate) offset: u64,
}

impl Uploads {
    /// Opens `dir` (creating it) and removes what has expired.
    pub fn open(dir: &Path, keep: chrono::Duration) -> anyhow::Result<Uploads> {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
        let uploads = Uploads {
            dir: dir.to_path_buf(),
            keep,
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

    pub(crate) fn write_record(&self, id: Uuid, record: &Record) -> std::io::Result<()> {
        let path = self.record_path(id);
        let aside = path.with_extension("json.new");
        std::fs::write(&aside, serde_json::to_vec(record)?)?;
        std::fs::rename(aside, path)
    }

    pub(crate) fn create(
        &self,
        length: u64,
        metadata: Option<String>,
        now: DateTime<Utc>,
    ) -> std::io::Result<(Uuid, Record)> {
        let id = Uuid::now_v7();
        let record = Record {
            length,
            metadata,
            created_at: now,
            expires_at: now + self.keep,
        };
        std::fs::File::create(self.data_path(id))?.sync_all()?;
        self.write_record(id, &record)?;
        Ok((id, record))
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
        let _ = std::fs::remove_file(self.record_path(id));
        let _ = std::fs::remove_file(self.data_path(id));
    }

    /// Removes every upload that has expired by `now`.
    pub fn sweep(&self, now: DateTime<Utc>) {
        let Ok(entries) = std::fs::read_dir(&self.dir) else {
            return;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            let Some(id) = path
                .file_name()
                .and_then(|n| n.to_str())
                .and_then(|n| n.strip_suffix(".json"))
                .and_then(|n| Uuid::parse_str(n).ok())
            else {
                continue;
            };
            let expired = std::fs::read(&path)
                .ok()
                .and_then(|bytes| serde_json::from_slice::<Record>(&bytes).ok())
                .is_none_or(|record| record.expires_at <= now);
            if expired {
                self.remove(id);
            }
        }
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
        })
    }

    /// Forgets a finished upload whose data a ticket took over.
    pub fn done(&self, finished: &Finished) {
        self.remove(finished.id);
    }
}

/// A finished upload: its id, and the file that holds its bytes.
pub struct Finished {
    id: Uuid,
    pub data: PathBuf,
}

/// Marks an upload busy while a `PATCH` writes to it.
pub(crate) struct Busy<'a> {
    uploads: &'a Uploads,
    id: Uuid,
}

impl<'a> Busy<'a> {
    /// Claims the upload for one writer; the offset it stands at, read once the claim is held.
    pub(crate) fn claim(uploads: &'a Uploads, id: Uuid) -> Result<(Busy<'a>, u64), ApiProblem> {
        let mut busy = uploads.busy.lock().expect("busy set");
        if busy.contains_key(&id) {
            return Err(ApiProblem::new(
                StatusCode::LOCKED,
                "upload_busy",
                "another request is writing to this upload; ask HEAD for the offset and try again",
            ));
        }
        let offset = std::fs::metadata(uploads.data_path(id))
            .map_err(ApiProblem::internal)?
            .len();
        busy.insert(id, offset);
        Ok((Busy { uploads, id }, offset))
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
        let uploads = Uploads::open(dir.path(), chrono::Duration::hours(24)).unwrap();
        let now = Utc::now();
        let (id, record) = uploads.create(10, None, now).unwrap();
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
            .create(10, None, now - chrono::Duration::hours(30))
            .unwrap();
        let (fresh, _) = uploads.create(10, None, now).unwrap();
        uploads.sweep(now);
        assert!(uploads.get(&old.to_string(), now).is_err());
        assert!(uploads.get(&fresh.to_string(), now).is_ok());
    }
}
