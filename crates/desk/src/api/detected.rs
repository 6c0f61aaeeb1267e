//! Detections in the app ([`crate::detect`]): the list for History → Detected, and a report
//! pre-filled from the one a prompt was answered for (*Report it*).
//!
//! The tray agent notices and prompts; the app is started with the detection's id, finds it in
//! the journal the agent keeps, and the report screen opens filled with its words, category,
//! call id and evidence, for the user to change or send as it is.

use chrono::{DateTime, Utc};
use serde::Serialize;
use ts_rs::TS;

use super::Desk;
use crate::detect::journal::{Detected, Journal};
use crate::error::Error;
use crate::report::Category;

/// What the report screen starts from when the user answered a prompt.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
pub struct DetectionPrefill {
    /// The detection's id: the screen fills the form once per detection.
    pub id: String,
    pub summary: String,
    pub description: String,
    pub category: Category,
    pub call_ids: Vec<String>,
    #[ts(type = "string | null")]
    pub occurred_at: Option<DateTime<Utc>>,
}

impl Desk {
    /// Every detection, newest first, with what became of it.
    pub fn detected(&self) -> Vec<Detected> {
        Journal::new(&self.data_dir).list()
    }

    /// The report screen is to start from detection `id` (with the other detections of its call).
    pub fn open_detection(&self, id: &str) -> Result<DetectionPrefill, Error> {
        let all = self.detected();
        let found = all
            .iter()
            .find(|d| d.detection.id == id)
            .ok_or_else(|| Error::UnknownDetection(id.to_owned()))?;
        let call = found.detection.call_id.clone();
        let mut lines = vec![format!(
            "Call Support noticed this on its own at {}.",
            found.detection.at.format("%Y-%m-%d %H:%M UTC")
        )];
        for one in all
            .iter()
            .filter(|d| d.detection.id == id || (call.is_some() && d.detection.call_id == call))
        {
            lines.push(format!("- {}", one.detection.summary));
            lines.extend(one.detection.details.iter().map(|d| format!("  {d}")));
        }
        let prefill = DetectionPrefill {
            id: id.to_owned(),
            summary: found.detection.summary.clone(),
            description: lines.join("\n"),
            category: found.detection.category(),
            call_ids: call.into_iter().collect(),
            occurred_at: found.detection.occurred_at,
        };
        log::info!("report started from detection {id}");
        *self.detection.lock().expect("detection lock") = Some(prefill.clone());
        Ok(prefill)
    }

    /// The detection the report screen starts from, if any.
    pub(super) fn detection_prefill(&self) -> Option<DetectionPrefill> {
        self.detection.lock().expect("detection lock").clone()
    }

    /// The report was sent or set aside: the next report starts empty.
    pub fn dismiss_detection(&self) {
        self.detection.lock().expect("detection lock").take();
    }
}
