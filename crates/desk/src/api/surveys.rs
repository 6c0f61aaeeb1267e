//! The end-of-call survey in the app: the call the tray agent asked about, and the answers kept
//! on this computer when the user does not attach logs (History → Surveys). Answers with logs go
//! as a report (`report.survey`), through the consent screen like any other.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use ts_rs::TS;

use super::Desk;
use crate::error::Error;
use crate::survey::Survey;
use callsupport_kept::{append_lines, read_lines};

/// Answers kept, newest last; past twice this many the file is cut to the latest.
const KEEP: usize = 200;

/// A survey answered on this computer and kept there.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct SurveyAnswer {
    #[ts(type = "string")]
    pub answered_at: DateTime<Utc>,
    pub survey: Survey,
}

impl Desk {
    /// The survey is to ask about `call_id` (the tray agent saw it end).
    pub fn open_survey(&self, call_id: &str) {
        log::info!("survey about call {call_id}");
        *self.survey_call.lock().expect("survey lock") = Some(call_id.to_owned());
    }

    pub(super) fn survey_call(&self) -> Option<String> {
        self.survey_call.lock().expect("survey lock").clone()
    }

    /// *Done*: the answers, checked, kept on this computer (nothing is sent). The survey's call
    /// is then answered.
    pub fn keep_survey(&self, survey: Survey) -> Result<SurveyAnswer, Error> {
        let survey = survey.checked(self.config().survey.scale)?;
        let answer = SurveyAnswer {
            answered_at: Utc::now(),
            survey,
        };
        append_lines(&self.surveys_path(), std::slice::from_ref(&answer), KEEP)
            .map_err(Error::io("cannot keep the survey answers"))?;
        self.survey_call.lock().expect("survey lock").take();
        log::info!("survey answered and kept on this computer");
        Ok(answer)
    }

    /// The survey was answered with logs (a report) or set aside.
    pub fn dismiss_survey(&self) {
        self.survey_call.lock().expect("survey lock").take();
    }

    /// The answers kept on this computer, newest first.
    pub fn surveys(&self) -> Vec<SurveyAnswer> {
        let mut all: Vec<SurveyAnswer> = read_lines(&self.surveys_path());
        all.reverse();
        all
    }

    fn surveys_path(&self) -> std::path::PathBuf {
        self.data_dir.join("surveys.jsonl")
    }
}
