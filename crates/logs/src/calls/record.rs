//! One line of a call client operations log (`ACSCallClientOperations`, reference 003), read as
//! the SDK, a storage-account archive or a Log Analytics export writes it: the fields at the top
//! level or inside `properties`, numbers as numbers or as quoted digits, the payload as a JSON
//! string or an object.

use std::borrow::Cow;

use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::value::RawValue;

/// The fields of one record this crate reads; anything else in the line is ignored.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct Fields<'a> {
    #[serde(rename = "CallId", borrow)]
    pub call_id: Option<Cow<'a, str>>,
    #[serde(rename = "CallClientTimeStamp", borrow)]
    pub client_time: Option<Cow<'a, str>>,
    #[serde(rename = "TimeGenerated", borrow)]
    pub time_generated: Option<Cow<'a, str>>,
    /// Azure Monitor's record time in storage-account archives.
    #[serde(borrow)]
    pub time: Option<Cow<'a, str>>,
    #[serde(rename = "OperationName", borrow)]
    pub operation_name: Option<Cow<'a, str>>,
    #[serde(rename = "OperationType", borrow)]
    pub operation_type: Option<Cow<'a, str>>,
    #[serde(rename = "OperationId", borrow)]
    pub operation_id: Option<Cow<'a, str>>,
    #[serde(rename = "ParticipantId", borrow)]
    pub participant_id: Option<Cow<'a, str>>,
    #[serde(rename = "DurationMs")]
    pub duration_ms: Number,
    #[serde(rename = "ResultType", borrow)]
    pub result_type: Option<Cow<'a, str>>,
    #[serde(rename = "ResultSignature")]
    pub result_signature: Number,
    #[serde(rename = "SdkVersion", borrow)]
    pub sdk_version: Option<Cow<'a, str>>,
    #[serde(rename = "OperationPayload", borrow)]
    pub payload: Option<&'a RawValue>,
    /// Azure Monitor's log category (`CallClientOperations`) in exports.
    #[serde(borrow)]
    pub category: Option<Cow<'a, str>>,
    #[serde(borrow)]
    pub properties: Option<Box<Fields<'a>>>,
}

/// A number written as a JSON number or as a string of digits (the schema's sample quotes them).
#[derive(Debug, Default, Clone, Copy, PartialEq)]
pub struct Number(pub Option<f64>);

impl<'de> Deserialize<'de> for Number {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Number, D::Error> {
        struct Visitor;
        impl serde::de::Visitor<'_> for Visitor {
            type Value = Number;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a number, or a string of one")
            }
            fn visit_i64<E>(self, v: i64) -> Result<Number, E> {
                Ok(Number(Some(v as f64)))
            }
            fn visit_u64<E>(self, v: u64) -> Result<Number, E> {
                Ok(Number(Some(v as f64)))
            }
            fn visit_f64<E>(self, v: f64) -> Result<Number, E> {
                Ok(Number(Some(v)))
            }
            fn visit_str<E>(self, v: &str) -> Result<Number, E> {
                Ok(Number(
                    v.trim().parse().ok().filter(|f: &f64| f.is_finite()),
                ))
            }
            fn visit_unit<E>(self) -> Result<Number, E> {
                Ok(Number(None))
            }
        }
        deserializer.deserialize_any(Visitor)
    }
}

/// One operation of one call, as a record tells it.
#[derive(Debug, Clone, PartialEq)]
pub struct Record<'a> {
    pub call_id: &'a str,
    /// `CallClientTimeStamp`, else `time`, else `TimeGenerated`.
    pub at: Option<DateTime<Utc>>,
    pub name: &'a str,
    pub kind: &'a str,
    pub operation_id: &'a str,
    pub participant_id: Option<&'a str>,
    pub duration_ms: u64,
    pub result_type: &'a str,
    pub result_signature: Option<u16>,
    pub sdk_version: Option<&'a str>,
    /// `ResultType` is not `Succeeded`, or `ResultSignature` is 400 or more.
    pub failed: bool,
    /// The operation's details: the JSON the SDK wrote (a string holding JSON is unwrapped).
    pub payload: Option<Cow<'a, str>>,
}

/// Why a line is not a record of a call.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RecordError {
    #[error("not JSON: {0}")]
    NotJson(String),
    #[error("no CallId")]
    NoCallId,
    #[error("a CallId of {0} characters is not one")]
    BadCallId(usize),
}

/// A day in milliseconds: no operation takes longer.
const MAX_DURATION_MS: f64 = 86_400_000.0;

impl<'a> Fields<'a> {
    /// Reads one line; `Err` says why it is not a record at all.
    pub fn parse(line: &'a [u8]) -> Result<Fields<'a>, RecordError> {
        serde_json::from_slice(line).map_err(|err| RecordError::NotJson(err.to_string()))
    }

    /// The record the line holds: the fields inside `properties` win over the top level's.
    pub fn record(&'a self) -> Result<Record<'a>, RecordError> {
        let inner = self.properties.as_deref();
        macro_rules! field {
            ($name:ident) => {
                inner
                    .and_then(|p| p.$name.as_deref())
                    .or(self.$name.as_deref())
            };
        }
        let call_id = field!(call_id)
            .map(str::trim)
            .ok_or(RecordError::NoCallId)?;
        if call_id.is_empty() {
            return Err(RecordError::NoCallId);
        }
        if call_id.len() > 128 {
            return Err(RecordError::BadCallId(call_id.len()));
        }
        let at = [field!(client_time), field!(time), field!(time_generated)]
            .into_iter()
            .flatten()
            .find_map(|t| t.parse::<DateTime<Utc>>().ok());
        let number = |outer: Number, inner: Option<Number>| {
            inner.filter(|n| n.0.is_some()).unwrap_or(outer).0
        };
        let duration_ms = number(self.duration_ms, inner.map(|p| p.duration_ms))
            .map_or(0, |d| d.clamp(0.0, MAX_DURATION_MS) as u64);
        let result_signature = number(self.result_signature, inner.map(|p| p.result_signature))
            .filter(|s| (0.0..1000.0).contains(s))
            .map(|s| s as u16);
        let result_type = field!(result_type).unwrap_or("");
        let failed = (!result_type.is_empty() && !result_type.eq_ignore_ascii_case("Succeeded"))
            || result_signature.is_some_and(|s| s >= 400);
        let payload = inner
            .and_then(|p| p.payload)
            .or(self.payload)
            .and_then(payload_text);
        Ok(Record {
            call_id,
            at,
            name: field!(operation_name).unwrap_or("(unnamed)"),
            kind: field!(operation_type).unwrap_or(""),
            operation_id: field!(operation_id).unwrap_or(""),
            participant_id: field!(participant_id).filter(|p| !p.is_empty()),
            duration_ms,
            result_type,
            result_signature,
            sdk_version: field!(sdk_version),
            failed,
            payload,
        })
    }
}

/// The payload as JSON text: an object as written, a string holding JSON unwrapped.
fn payload_text(raw: &RawValue) -> Option<Cow<'_, str>> {
    let text = raw.get();
    if matches!(text, "null" | "\"\"" | "{}" | "\"{}\"") {
        return None;
    }
    if text.starts_with('"') {
        return serde_json::from_str::<String>(text).ok().map(Cow::Owned);
    }
    Some(Cow::Borrowed(text))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The sample record of the call client operations schema (reference 003), with its payload
    /// string's quotes escaped as JSON needs them.
    pub const DOCUMENTED: &str = r#"{"properties": {"TenantId": "aaaabbbb-0000-cccc-1111-dddd2222eeee", "TimeGenerated": "2024-01-09T17:06:50.3Z", "CallClientTimeStamp": "2024-01-09T15:07:56.066Z", "OperationName": "CreateView", "CallId": "92d800c4-abde-40be-91e9-3814ee786b19", "ParticipantId": "2656fd6c-6d4a-451d-a1a5-ce1baefc4d5c", "OperationType": "client-api-request", "OperationId": "0d987336-37e0-4acc-aba3-e48741d88103", "DurationMs": "577", "ResultType": "Succeeded", "ResultSignature": "200", "SdkVersion": "1.19.2.2_beta", "UserAgent": "azure-communication-services/1.3.1-beta.1", "ClientInstanceId": "d08a3d05-db90-415f-88a7-87ae74edc1dd", "OperationPayload": "{\"StreamType\":\"Video\",\"StreamId\":\"2.0\",\"Source\":\"remote\",\"RemoteParticipantId\":\"remote\"}", "Type": "ACSCallClientOperations"}}"#;

    #[test]
    fn the_documented_sample_reads_field_by_field() {
        let fields = Fields::parse(DOCUMENTED.as_bytes()).unwrap();
        let record = fields.record().unwrap();
        assert_eq!(record.call_id, "92d800c4-abde-40be-91e9-3814ee786b19");
        assert_eq!(
            record.at.unwrap().to_rfc3339(),
            "2024-01-09T15:07:56.066+00:00"
        );
        assert_eq!(record.name, "CreateView");
        assert_eq!(record.kind, "client-api-request");
        assert_eq!(record.operation_id, "0d987336-37e0-4acc-aba3-e48741d88103");
        assert_eq!(
            record.participant_id,
            Some("2656fd6c-6d4a-451d-a1a5-ce1baefc4d5c")
        );
        assert_eq!(record.duration_ms, 577);
        assert_eq!(record.result_signature, Some(200));
        assert_eq!(record.sdk_version, Some("1.19.2.2_beta"));
        assert!(!record.failed);
        assert_eq!(
            record.payload.as_deref(),
            Some(
                r#"{"StreamType":"Video","StreamId":"2.0","Source":"remote","RemoteParticipantId":"remote"}"#
            )
        );
    }

    #[test]
    fn the_sample_as_printed_is_not_json_and_says_so() {
        // Reference 003 prints the payload's inner quotes unescaped.
        let printed = DOCUMENTED.replace(r#"\""#, "\"");
        assert!(matches!(
            Fields::parse(printed.as_bytes()),
            Err(RecordError::NotJson(_))
        ));
    }

    #[test]
    fn top_level_fields_numbers_as_numbers_and_failures() {
        let line = br#"{"CallId":"c1","time":"2025-03-01T10:00:00Z","OperationName":"Join","DurationMs":10012,"ResultType":"Failed","ResultSignature":408,"OperationPayload":{"code":408}}"#;
        let fields = Fields::parse(line).unwrap();
        let record = fields.record().unwrap();
        assert!(record.failed);
        assert_eq!(
            (record.duration_ms, record.result_signature),
            (10012, Some(408))
        );
        assert_eq!(record.payload.as_deref(), Some(r#"{"code":408}"#));
        // A success by name with an error code is a failure too.
        let line = br#"{"CallId":"c1","ResultType":"Succeeded","ResultSignature":"500"}"#;
        assert!(Fields::parse(line).unwrap().record().unwrap().failed);
        let line = br#"{"CallId":"c1","ResultType":"succeeded","ResultSignature":"201"}"#;
        assert!(!Fields::parse(line).unwrap().record().unwrap().failed);
    }

    #[test]
    fn lines_that_are_not_records_of_a_call_say_why() {
        assert_eq!(
            Fields::parse(br#"{"OperationName":"Join"}"#)
                .unwrap()
                .record(),
            Err(RecordError::NoCallId)
        );
        assert_eq!(
            Fields::parse(br#"{"CallId":"  "}"#).unwrap().record(),
            Err(RecordError::NoCallId)
        );
        let long = format!(r#"{{"CallId":"{}"}}"#, "x".repeat(300));
        assert_eq!(
            Fields::parse(long.as_bytes()).unwrap().record(),
            Err(RecordError::BadCallId(300))
        );
        assert!(matches!(
            Fields::parse(b"{\"CallId\":"),
            Err(RecordError::NotJson(_))
        ));
        // Strange values do not stop a record: they are left out.
        let odd = br#"{"CallId":"c","DurationMs":"soon","ResultSignature":-5,"CallClientTimeStamp":"yesterday"}"#;
        let fields = Fields::parse(odd).unwrap();
        let record = fields.record().unwrap();
        assert_eq!(
            (record.duration_ms, record.result_signature, record.at),
            (0, None, None)
        );
    }
}
