//! The report's fields on the command line, shared by `collect` and `report`.

use callsupport_desk::report::{Category, Report, ReportError};

#[derive(clap::Args)]
pub struct ReportArgs {
    /// What went wrong, in one line.
    #[arg(long)]
    summary: String,
    /// More detail.
    #[arg(long, default_value = "")]
    description: String,
    /// cannot-join, dropped, audio, video, screen-share or other.
    #[arg(long, default_value = "other")]
    category: Category,
    /// A call id the report is about; repeat for several.
    #[arg(long = "call-id", value_name = "ID")]
    call_ids: Vec<String>,
}

impl ReportArgs {
    /// The checked report.
    pub fn report(self) -> Result<Report, ReportError> {
        Report {
            description: self.description,
            category: self.category,
            call_ids: self.call_ids,
            ..Report::new(self.summary)
        }
        .normalized()
    }
}
