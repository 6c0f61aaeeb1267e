//! Log Analytics (KQL) queries that find one call in the Azure Monitor tables of Azure
//! Communication Services, ready to paste into the portal's query editor.
//!
//! The call client tables name the call `CallId` (reference 003); the summary and diagnostics
//! tables name the same id `CorrelationId` (reference 002: "similar to the correlationId in call
//! summary log and call diagnostics log").

use callsupport_error::{Coded, ErrorCode};
use serde::Serialize;

/// One ready-to-run query.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Query {
    #[cfg_attr(feature = "ts", ts(type = "string"))]
    pub table: &'static str,
    /// What it shows, in a few words.
    #[cfg_attr(feature = "ts", ts(type = "string"))]
    pub title: &'static str,
    pub text: String,
}

/// A call id a query can safely hold.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "`{0}` is not a call id: use the id as the logs show it (letters, digits, '-', '_', '.', ':')"
)]
pub struct BadCallId(pub String);

/// Each table, the column that holds the call id, what the query shows and how.
const TABLES: &[(&str, &str, &str, &str)] = &[
    (
        "ACSCallClientOperations",
        "CallId",
        "Every SDK operation of the call, failures included",
        "| project CallClientTimeStamp, ParticipantId, OperationName, OperationType, DurationMs, ResultType, ResultSignature, OperationPayload\n| order by CallClientTimeStamp asc",
    ),
    (
        "ACSCallClientOperations",
        "CallId",
        "Only the operations that failed",
        "| where ResultType != \"Succeeded\" or toint(ResultSignature) >= 400\n| project CallClientTimeStamp, ParticipantId, OperationName, ResultType, ResultSignature, OperationPayload\n| order by CallClientTimeStamp asc",
    ),
    (
        "ACSCallSummary",
        "CorrelationId",
        "One row per participant: type, times, end reason, SDK and OS",
        "| project CallStartTime, CallDuration, CallType, ParticipantId, ParticipantStartTime, ParticipantDuration, ParticipantEndReason, EndpointType, SdkVersion, OsVersion",
    ),
    (
        "ACSCallSummaryUpdates",
        "CorrelationId",
        "The summary as it arrives, soon after the call",
        "| order by TimeGenerated asc",
    ),
    (
        "ACSCallDiagnostics",
        "CorrelationId",
        "Media streams and their quality (jitter, packet loss, round trip)",
        "| project TimeGenerated, ParticipantId, EndpointId, MediaType, StreamDirection, Codec, JitterAvg, JitterMax, PacketLossRateAvg, PacketLossRateMax, RoundTripTimeAvg, RoundTripTimeMax",
    ),
    (
        "ACSCallDiagnosticsUpdates",
        "CorrelationId",
        "Stream diagnostics as they arrive",
        "| order by TimeGenerated asc",
    ),
    (
        "ACSCallClientMediaStatsTimeSeries",
        "CallId",
        "Media statistics over time",
        "| order by TimeGenerated asc",
    ),
    (
        "ACSCallSurvey",
        "CallId",
        "What the participants said in the end-of-call survey",
        "| order by TimeGenerated asc",
    ),
];

/// The queries for `call_id`, one or more per table.
pub fn queries(call_id: &str) -> Result<Vec<Query>, BadCallId> {
    let id = call_id.trim();
    let fits = |c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | ':');
    if id.is_empty() || id.len() > 128 || !id.chars().all(fits) {
        return Err(BadCallId(call_id.to_owned()));
    }
    Ok(TABLES
        .iter()
        .map(|&(table, column, title, rest)| Query {
            table,
            title,
            text: format!("{table}\n| where {column} == \"{id}\"\n{rest}"),
        })
        .collect())
}

impl Coded for BadCallId {
    fn code(&self) -> ErrorCode {
        ErrorCode::ReportInvalid
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_table_asks_for_the_call_by_its_own_column() {
        let id = "92d800c4-abde-40be-91e9-3814ee786b19";
        let queries = queries(id).unwrap();
        let first = &queries[0];
        assert_eq!(first.table, "ACSCallClientOperations");
        assert!(first.text.starts_with(&format!(
            "ACSCallClientOperations\n| where CallId == \"{id}\"\n"
        )));
        let summary = queries
            .iter()
            .find(|q| q.table == "ACSCallSummary")
            .unwrap();
        assert!(
            summary
                .text
                .contains(&format!("| where CorrelationId == \"{id}\""))
        );
        for table in [
            "ACSCallDiagnostics",
            "ACSCallClientMediaStatsTimeSeries",
            "ACSCallSurvey",
        ] {
            assert!(queries.iter().any(|q| q.table == table), "{table}");
        }
    }

    #[test]
    fn nothing_but_an_id_goes_into_a_query() {
        for bad in ["", "a\" or 1 == 1 or \"", "a\nb", "x y", &"a".repeat(200)] {
            assert_eq!(queries(bad), Err(BadCallId(bad.to_owned())), "{bad:?}");
        }
        assert!(
            queries(" 7f3c-0001 ").is_ok(),
            "surrounding spaces are not part of it"
        );
    }
}
