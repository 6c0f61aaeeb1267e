//! The TypeScript declarations of every IPC type, as committed in the UI, and the test that keeps
//! them fresh.

use ts_rs::TS;

use super::{
    ApiError, AppOverview, ConsentView, DetectionPrefill, ExportReceipt, FileContent, FileEntry,
    FileGroup, FileIntegrity, FilePreview, HistoryEntry, IntegrityView, OpenedBundle, PreviewPart,
    QueuedReport, QueuedReports, ReportDraft, ReportState, ScreenshotView, SendReceipt,
    SkippedFile, SourceOverview, SurveyAnswer, View, logview,
};
use crate::config::SourceKind;
use crate::config::settings::{self, SettingsView};
use crate::error::ErrorCode;
use crate::index::{CallSeen, IndexEvent, IndexedFile, SourceStatus};
use crate::outbox::{Delivered, FlushSummary, LastError, NotDelivered};
use crate::progress::Progress;
use crate::report::Category;
use crate::support_link::SupportRequest;

/// The TypeScript declarations of every IPC type, as committed in the UI.
pub fn typescript() -> String {
    let cfg = ts_rs::Config::new().with_large_int("number");
    let decls = [
        ErrorCode::decl(&cfg),
        ApiError::decl(&cfg),
        Progress::decl(&cfg),
        Category::decl(&cfg),
        SourceKind::decl(&cfg),
        ReportDraft::decl(&cfg),
        View::decl(&cfg),
        SettingsView::decl(&cfg),
        settings::Setting::decl(&cfg),
        settings::SettingKind::decl(&cfg),
        crate::config::Origin::decl(&cfg),
        AppOverview::decl(&cfg),
        CallSeen::decl(&cfg),
        SupportRequest::decl(&cfg),
        DetectionPrefill::decl(&cfg),
        crate::survey::Survey::decl(&cfg),
        SurveyAnswer::decl(&cfg),
        crate::survey::Scale::decl(&cfg),
        crate::survey::Rating::<crate::survey::CallIssue>::decl(&cfg),
        crate::survey::CallIssue::decl(&cfg),
        crate::survey::AudioIssue::decl(&cfg),
        crate::survey::VideoIssue::decl(&cfg),
        crate::survey::ScreenshareIssue::decl(&cfg),
        crate::detect::journal::Detected::decl(&cfg),
        crate::detect::Detection::decl(&cfg),
        crate::detect::Rule::decl(&cfg),
        crate::detect::prompt::Decision::decl(&cfg),
        SourceOverview::decl(&cfg),
        ConsentView::decl(&cfg),
        FileGroup::decl(&cfg),
        FileEntry::decl(&cfg),
        FileContent::decl(&cfg),
        SkippedFile::decl(&cfg),
        SendReceipt::decl(&cfg),
        FilePreview::decl(&cfg),
        PreviewPart::decl(&cfg),
        crate::redact::Kind::decl(&cfg),
        crate::redact::Counts::decl(&cfg),
        ExportReceipt::decl(&cfg),
        ScreenshotView::decl(&cfg),
        crate::screenshot::HiddenArea::decl(&cfg),
        OpenedBundle::decl(&cfg),
        crate::fetch::TicketSystemView::decl(&cfg),
        super::FetchedTicket::decl(&cfg),
        crate::fetch::AddedBundle::decl(&cfg),
        crate::fetch::MadeLink::decl(&cfg),
        crate::bundle::vendor::VendorExport::decl(&cfg),
        logview::Level::decl(&cfg),
        logview::LogInfo::decl(&cfg),
        logview::LogLine::decl(&cfg),
        logview::LogWindow::decl(&cfg),
        logview::LogMatches::decl(&cfg),
        IntegrityView::decl(&cfg),
        FileIntegrity::decl(&cfg),
        crate::bundle::manifest::Manifest::decl(&cfg),
        crate::bundle::manifest::Generator::decl(&cfg),
        crate::host::HostFacts::decl(&cfg),
        crate::report::Report::decl(&cfg),
        crate::bundle::manifest::Consent::decl(&cfg),
        crate::bundle::manifest::ManifestSource::decl(&cfg),
        crate::bundle::manifest::ManifestFile::decl(&cfg),
        crate::bundle::manifest::FileRedaction::decl(&cfg),
        crate::bundle::manifest::Method::decl(&cfg),
        crate::bundle::manifest::Repacked::decl(&cfg),
        crate::bundle::manifest::ManifestSkipped::decl(&cfg),
        crate::calls::Calls::decl(&cfg),
        crate::calls::Call::decl(&cfg),
        crate::calls::Operation::decl(&cfg),
        crate::calls::FailureDetail::decl(&cfg),
        crate::calls::LineProblem::decl(&cfg),
        crate::calls::kql::Query::decl(&cfg),
        SourceStatus::decl(&cfg),
        IndexEvent::decl(&cfg),
        IndexedFile::decl(&cfg),
        QueuedReport::decl(&cfg),
        ReportState::decl(&cfg),
        HistoryEntry::decl(&cfg),
        QueuedReports::decl(&cfg),
        LastError::decl(&cfg),
        FlushSummary::decl(&cfg),
        NotDelivered::decl(&cfg),
        Delivered::decl(&cfg),
    ];
    let mut out = String::from(
        "// Generated from crates/desk/src/api.rs by `cargo xtask codegen`. Do not edit by hand.\n",
    );
    for decl in decls {
        out.push_str("\nexport ");
        out.push_str(&decl);
        out.push('\n');
    }
    out
}

/// Where the generated declarations live, relative to the workspace root.
pub const TYPESCRIPT_PATH: &str = "ui/src/lib/backend/generated/types.ts";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typescript_bindings_are_fresh() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../..")
            .join(TYPESCRIPT_PATH);
        let committed = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            committed == typescript(),
            "{} is stale: run `cargo xtask codegen` and commit the result",
            TYPESCRIPT_PATH
        );
    }
}
