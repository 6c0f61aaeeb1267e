// Generated from crates/desk/src/api.rs by `cargo xtask codegen`. Do not edit by hand.

export type ErrorCode = "config_invalid" | "source_unavailable" | "report_invalid" | "cancelled" | "unreachable" | "unauthorized" | "rejected" | "server_busy" | "integrity" | "io" | "managed" | "destination_changed";

export type ApiError = { code: ErrorCode, message: string, };

export type Progress = { "stage": "collecting", files_done: number, files_total: number, bytes_done: number, bytes_total: number, } | { "stage": "uploading", bytes_sent: number, bytes_total: number, bytes_per_second: number, } | { "stage": "retrying", 
/**
 * The attempt about to be made (2 for the first retry).
 */
attempt: number, attempts: number, wait_seconds: number, 
/**
 * What went wrong, in words.
 */
reason: string, } | { "stage": "confirming" } | { "stage": "downloading", bytes_received: number, bytes_total: number, };

export type Category = "cannot_join" | "dropped" | "audio" | "video" | "screen_share" | "other";

export type SourceKind = "encrypted" | "text" | "call-operations" | "screenshot";

export type ReportDraft = { summary: string, description: string, category: Category, call_ids: Array<string>, 
/**
 * When it happened; now when not given.
 */
occurred_at: string | null, 
/**
 * An address support may write to; only where `privacy.allow_contact_email` allows it.
 */
contact: string | null, 
/**
 * *Export Logs*: the report is to be saved to a file, and the consent screen says so.
 */
to_file: boolean, 
/**
 * Adds the logs to this existing ticket; only the one support's open link names.
 */
ticket_id: string | null, 
/**
 * A screenshot the user took for this report ([`ScreenshotView::id`]); only where
 * `privacy.allow_screenshot` allows it.
 */
screenshot: string | null, 
/**
 * The end-of-call survey the report comes from (*Attach logs*).
 */
survey: Survey | null, };

export type View = "report" | "export" | "history" | "settings" | "viewer" | "survey";

export type SettingsView = { settings: Array<Setting>, 
/**
 * The machine-wide file, home folder as `~`, when there is one.
 */
managed_file: string | null, 
/**
 * The user's file, where changes are written.
 */
user_file: string | null, 
/**
 * What of the user's file was ignored, in words (with file, line and key).
 */
ignored: Array<string>, };

export type Setting = { key: string, label: string, 
/**
 * The effective value as text (`""` when unset).
 */
value: string, kind: SettingKind, origin: Origin, 
/**
 * Locked by the organisation: shown as managed, cannot be changed.
 */
locked: boolean, 
/**
 * The user may change it here.
 */
editable: boolean, };

export type SettingKind = "text" | "number" | "switch" | "list";

export type Origin = "default" | "organisation" | "policy" | "user";

export type AppOverview = { destination: string, organisation: string | null, sources: Array<SourceOverview>, 
/**
 * The latest calls in the call-operations logs, newest first (at most [`RECENT_CALLS`]).
 */
recent_calls: Array<CallSeen>, 
/**
 * Whether the report form offers a contact e-mail (`privacy.allow_contact_email`).
 */
allow_contact: boolean, 
/**
 * Whether the report form offers a screenshot (`privacy.allow_screenshot`).
 */
allow_screenshot: boolean, 
/**
 * Whether reports may be saved to a file (`privacy.allow_export`).
 */
allow_export: boolean, 
/**
 * Whether log files go with reports (`privacy.allow_log_collection`).
 */
allow_log_collection: boolean, 
/**
 * Support's open request for logs (from a link), if any.
 */
support_request: SupportRequest | null, 
/**
 * Why the last link could not be used, in words.
 */
link_problem: string | null, 
/**
 * The detection the report starts from, when the user answered a prompt.
 */
detection: DetectionPrefill | null, 
/**
 * The call the survey asks about, when the tray agent asked.
 */
survey_call: string | null, 
/**
 * The scale of the survey's scores (`survey.scale`).
 */
survey_scale: Scale, };

export type CallSeen = { call_id: string, 
/**
 * The earliest record time (`CallClientTimeStamp`, else `time` or `TimeGenerated`).
 */
first_at: string | null, 
/**
 * The latest record time, plus that operation's `DurationMs`.
 */
last_at: string | null, operations: number, 
/**
 * Operations whose `ResultType` is not `Succeeded` or whose `ResultSignature` is 400 or more.
 */
failures: number, };

export type SupportRequest = { 
/**
 * The existing ticket the logs are for.
 */
ticket_id: string, 
/**
 * Until when the link may be used.
 */
expires_at: string, };

export type DetectionPrefill = { 
/**
 * The detection's id: the screen fills the form once per detection.
 */
id: string, summary: string, description: string, category: Category, call_ids: Array<string>, occurred_at: string | null, };

export type Survey = { 
/**
 * The call it is about, when the logs named it.
 */
call_id?: string | null, 
/**
 * Required: the call as a whole (absent, it is refused in words, not by the parser).
 */
overall: Rating<CallIssue> | null, audio?: Rating<AudioIssue> | null, video?: Rating<VideoIssue> | null, screenshare?: Rating<ScreenshareIssue> | null, comment: string, };

export type SurveyAnswer = { answered_at: string, survey: Survey, };

export type Scale = { lower_bound: number, upper_bound: number, low_score_threshold: number, };

export type Rating<I> = { score: number, scale: Scale, issues: Array<I>, };

export type CallIssue = "CallCannotJoin" | "CallCannotInvite" | "HadToRejoin" | "CallEndedUnexpectedly" | "OtherIssues";

export type AudioIssue = "NoLocalAudio" | "NoRemoteAudio" | "Echo" | "AudioNoise" | "LowVolume" | "AudioStoppedUnexpectedly" | "DistortedSpeech" | "AudioInterruption" | "OtherIssues";

export type VideoIssue = "NoVideoReceived" | "NoVideoSent" | "LowQuality" | "Freezes" | "StoppedUnexpectedly" | "DarkVideoReceived" | "AudioVideoOutOfSync" | "OtherIssues";

export type ScreenshareIssue = "NoContentLocal" | "NoContentRemote" | "CannotPresent" | "LowQuality" | "Freezes" | "StoppedUnexpectedly" | "LargeDelay" | "OtherIssues";

export type Detected = { decision: Decision, 
/**
 * Names it for the prompt and the report it leads to.
 */
id: string, 
/**
 * When the detector noticed it (the call's end for call rules).
 */
at: string, 
/**
 * When it happened, as the log says (the failure, the call's last record, the line).
 */
occurred_at: string | null, 
/**
 * The source whose logs showed it (which app).
 */
source_id: string, call_id: string | null, 
/**
 * In plain words, as the prompt says it: "Your last call ended unexpectedly".
 */
summary: string, 
/**
 * The evidence: failed operations with their result, or the matching line (cut short).
 */
details: Array<string>, } & ({ "rule": "join_failed" } | { "rule": "unexpected_end" } | { "rule": "repeated_failures" } | { "rule": "failed_operation" } | { "rule": "pattern", name: string, });

export type Detection = { 
/**
 * Names it for the prompt and the report it leads to.
 */
id: string, 
/**
 * When the detector noticed it (the call's end for call rules).
 */
at: string, 
/**
 * When it happened, as the log says (the failure, the call's last record, the line).
 */
occurred_at: string | null, 
/**
 * The source whose logs showed it (which app).
 */
source_id: string, call_id: string | null, 
/**
 * In plain words, as the prompt says it: "Your last call ended unexpectedly".
 */
summary: string, 
/**
 * The evidence: failed operations with their result, or the matching line (cut short).
 */
details: Array<string>, } & ({ "rule": "join_failed" } | { "rule": "unexpected_end" } | { "rule": "repeated_failures" } | { "rule": "failed_operation" } | { "rule": "pattern", name: string, });

export type Rule = { "rule": "join_failed" } | { "rule": "unexpected_end" } | { "rule": "repeated_failures" } | { "rule": "failed_operation" } | { "rule": "pattern", name: string, };

export type Decision = { "decision": "prompted" } | { "decision": "with_prompt" } | { "decision": "off" } | { "decision": "muted" } | { "decision": "stale" } | { "decision": "cooldown", until: string, } | { "decision": "daily_cap" };

export type SourceOverview = { id: string, name: string, kind: SourceKind, file_count: number, total_bytes: number, 
/**
 * Why the source has no files to offer, in words; `null` when it is fine.
 */
problem: string | null, status: SourceStatus, };

export type ConsentView = { report_id: string, destination: string, organisation: string | null, statement: Array<string>, statement_sha256: string, 
/**
 * Prepared to be saved to a file (*Export Logs*) rather than sent.
 */
to_file: boolean, groups: Array<FileGroup>, file_count: number, total_bytes: number, skipped: Array<SkippedFile>, };

export type FileGroup = { source_id: string, name: string, kind: SourceKind, files: Array<FileEntry>, };

export type FileEntry = { 
/**
 * Stable id for choosing the file: `<source id>/<path below the source's folder>`.
 */
id: string, 
/**
 * Path below the source's folder, as the list shows it.
 */
name: string, 
/**
 * Full path on this computer, home folder as `~`.
 */
path: string, size: number, modified_at: string, encrypted: boolean, 
/**
 * What can be read in it: cleaned on its way when redaction is on, or sent as it is.
 */
content: FileContent, 
/**
 * Ticked: it goes into the report. Unticked files are listed, and left out.
 */
included: boolean, };

export type FileContent = "text" | "gzip" | "zip" | "encrypted" | "picture" | "binary" | "compressed" | "password" | "damaged";

export type SkippedFile = { path: string, reason: string, };

export type SendReceipt = { ticket_id: string, ticket_url: string, bundle_id: string, bundle_sha256: string, bundle_bytes: number, };

export type FilePreview = { file_id: string, 
/**
 * Full path on this computer, home folder as `~`.
 */
path: string, parts: Array<PreviewPart>, 
/**
 * Bytes of the file shown (its last ones) and the file's size as it will be sent.
 */
shown_bytes: number, size: number, 
/**
 * Replacements in the whole file, per kind.
 */
counts: Counts, 
/**
 * Whether personal details are replaced (`privacy.redact`); off, the text is sent as it is.
 */
redaction: boolean, };

export type PreviewPart = { text: string, kind: Kind | null, };

export type Kind = "email" | "phone" | "ipv4" | "ipv6" | "token" | "jwt" | "secret" | "user" | "host";

export type Counts = { 
/**
 * All replacements, every kind together.
 */
total: number, 
/**
 * Replacements per kind, keyed by [`Kind::as_str`]; kinds with none are absent.
 */
by_kind: { [key in string]: number }, };

export type ExportReceipt = { 
/**
 * Where it was saved, home folder as `~`.
 */
path: string, bundle_id: string, bundle_sha256: string, bundle_bytes: number, };

export type ScreenshotView = { 
/**
 * What the report's `screenshot` names.
 */
id: string, width: number, height: number, bytes: number, 
/**
 * The picture itself, `data:image/png;base64,…`, for the window to show.
 */
data_url: string, };

export type HiddenArea = { x: number, y: number, width: number, height: number, };

export type OpenedBundle = { 
/**
 * What the other viewer calls name it by.
 */
id: string, 
/**
 * Its file, home folder as `~`.
 */
path: string, bytes: number, 
/**
 * It came sealed for the organisation's keys, and was opened with the agent's identity.
 */
sealed: boolean, manifest: Manifest, 
/**
 * For a bundle fetched by ticket id: where that ticket stands in the organisation's
 * ticket system.
 */
ticket_system?: TicketSystemView, 
/**
 * For a bundle fetched by ticket id: the ticket, and the bundles added to it later.
 */
ticket?: FetchedTicket, };

export type TicketSystemView = { 
/**
 * The ticket is there, with its bundle.
 */
done: boolean, work_item_id: number | null, 
/**
 * Where a person opens the work item.
 */
work_item_url: string | null, 
/**
 * Attempts made so far.
 */
attempts: number, 
/**
 * Why the last attempt failed, in the service's words.
 */
last_error: string | null, 
/**
 * While not done: when the service tries again (UTC, RFC 3339).
 */
next_attempt_at: string | null, };

export type FetchedTicket = { ticket_id: string, 
/**
 * The added bundle this is; `None` for the ticket's own.
 */
added_bundle: string | null, 
/**
 * The bundles added to the ticket later, oldest first.
 */
added: Array<AddedBundle>, };

export type AddedBundle = { bundle_id: string, 
/**
 * When it arrived (UTC, RFC 3339).
 */
created_at: string, 
/**
 * What the user wrote.
 */
summary: string, bundle_bytes: number, bundle_sha256: string, };

export type MadeLink = { link_id: string, ticket_id: string, 
/**
 * The link to send the user.
 */
url: string, 
/**
 * Until when the user can open it (UTC, RFC 3339).
 */
expires_at: string, 
/**
 * How many reports may come through it.
 */
max_uses: number, uses: number, };

export type VendorExport = { path: string, files: number, bytes: number, };

export type Level = "trace" | "debug" | "info" | "warn" | "error";

export type LogInfo = { log_id: string, path: string, lines: number, 
/**
 * The bytes of those lines.
 */
bytes: number, 
/**
 * Whether those are all of the log's lines; `false` when it has more than the viewer
 * indexes ([`MAX_LINES`]), and only its start is shown.
 */
complete: boolean, 
/**
 * The log's size in the bundle.
 */
size: number, 
/**
 * How many lines of each level (in [`Level`] order: trace … error) and without one.
 */
by_level: [number, number, number, number, number, number], };

export type LogLine = { 
/**
 * Its number in the file, from 1.
 */
number: number, level: Level | null, text: string, };

export type LogWindow = { 
/**
 * How many lines the filter lets through, in all.
 */
total: number, 
/**
 * The position of the first line below in the filtered list.
 */
first: number, lines: Array<LogLine>, };

export type LogMatches = { total: number, 
/**
 * The first [`MAX_MATCHES`], in order.
 */
positions: Array<number>, };

export type IntegrityView = { intact: boolean, files_checked: number, bytes_checked: number, problems: Array<FileIntegrity>, };

export type FileIntegrity = { path: string, problem: string, };

export type Manifest = { format: string, bundle_id: string, created_at: string, generator: Generator, host: HostFacts, report: Report, consent: Consent, sources: Array<ManifestSource>, files: Array<ManifestFile>, skipped: Array<ManifestSkipped>, };

export type Generator = { name: string, version: string, };

export type HostFacts = { os: string, os_version: string, arch: string, locale: string, timezone: string, };

export type Report = { summary: string, description: string, category: Category, occurred_at: string, call_ids: Array<string>, contact?: string | null, 
/**
 * The existing ticket these logs are for, when support asked for them with a link.
 */
ticket_id?: string | null, 
/**
 * The link from support that asked for these logs, as the service signed it
 * (`callsupport://report?ticket=…&link=…&sig=…`); it goes with `ticket_id`, and the service
 * checks it and counts its uses.
 */
link?: string | null, 
/**
 * The end-of-call survey, when the report came from one.
 */
survey?: Survey | null, };

export type Consent = { accepted_at: string, 
/**
 * SHA-256 of the exact statement text shown on the consent screen.
 */
statement_sha256: string, 
/**
 * The statement itself, word for word as its hash covers it: its paragraphs, one a line,
 * then one `path<TAB>bytes` line a file. Absent in bundles written before it was kept.
 */
statement?: string | null, 
/**
 * The version of the statement's wording, which changes whenever its sentences do.
 */
statement_version?: string | null, 
/**
 * The language the statement was shown in (BCP 47, `en`).
 */
language?: string | null, 
/**
 * Whether readable files had personal details replaced.
 */
redaction: boolean, 
/**
 * Where the report was going: the ticket API's host, or `file` for an export.
 */
destination: string, 
/**
 * The public keys (`age1…`) the bundle was sealed for; empty when it was not sealed.
 */
sealed_for?: Array<string>, };

export type ManifestSource = { id: string, name: string, kind: SourceKind, };

export type ManifestFile = { 
/**
 * Entry name inside the zip: `files/<source>/<relative path>`.
 */
path: string, source: string, 
/**
 * Where it was on the user's machine, home folder shown as `~`.
 */
original_path: string, size: number, sha256: string, modified_at: string, kind: SourceKind, encrypted: boolean, 
/**
 * The file grew while it was copied; the bundle holds it up to the size seen at the snapshot.
 */
truncated: boolean, 
/**
 * Replacements made in this file, in all.
 */
redactions: number, 
/**
 * Replacements by kind (`email`, `ipv4`, …).
 */
redactions_by_kind?: { [key in string]: number }, 
/**
 * Whether personal details were replaced in this file, and if not, why.
 */
redaction: FileRedaction, method: Method, 
/**
 * A compressed file whose text was unpacked, cleaned and packed again in its own format:
 * the entry is that new file (its `size` and `sha256` are the packed bytes').
 */
repacked?: Repacked | null, };

export type FileRedaction = "applied" | "off" | "impossible";

export type Method = "stored" | "deflated";

export type Repacked = "gzip" | "zip";

export type ManifestSkipped = { original_path: string, reason: string, };

export type Calls = { 
/**
 * By start time; calls without any time last.
 */
calls: Array<Call>, 
/**
 * The files read, as their operations name them by index.
 */
files: Array<string>, records: number, 
/**
 * Lines that are JSON but not about a call (no `CallId`), such as other log categories.
 */
other_lines: number, 
/**
 * Records read a second time (same call, operation id, time and participant), such as one in
 * a bundle and again in an Azure Monitor export: counted once.
 */
duplicates: number, 
/**
 * Lines that could not be read as a record at all.
 */
malformed: number, 
/**
 * The first [`MAX_PROBLEMS`] malformed lines, with where they are.
 */
problems: Array<LineProblem>, };

export type Call = { call_id: string, 
/**
 * The first operation's time.
 */
start: string | null, 
/**
 * The latest time an operation ended.
 */
end: string | null, participants: Array<string>, sdk_versions: Array<string>, 
/**
 * In time order; operations without a time last, in the order read.
 */
operations: Array<Operation>, failures: number, };

export type Operation = { at: string | null, name: string, 
/**
 * `OperationType`: `client-api-request`, `client-event`, …
 */
kind: string, participant_id: string | null, duration_ms: number, result_type: string, result_signature: number | null, failed: boolean, 
/**
 * What a failed operation carried: its operation id and payload.
 */
failure?: FailureDetail, 
/**
 * Where the record is: the file's index in [`Calls::files`] and its line (from 1).
 */
file: number, line: number, };

export type FailureDetail = { operation_id: string, 
/**
 * The payload as JSON text, when there was one.
 */
payload: string | null, };

export type LineProblem = { file: string, line: number, reason: string, };

export type Query = { table: string, 
/**
 * What it shows, in a few words.
 */
title: string, text: string, };

export type SourceStatus = { "state": "starting" } | { "state": "watching" } | { "state": "polling", reason: string, } | { "state": "missing" } | { "state": "denied", reason: string, } | { "state": "invalid", reason: string, };

export type IndexEvent = { "type": "file_added", file: IndexedFile, } | { "type": "file_changed", file: IndexedFile, } | { "type": "file_removed", source_id: string, path: string, } | { "type": "status_changed", source_id: string, status: SourceStatus, } | { "type": "rescanned", source_id: string, files: number, reason: string, };

export type IndexedFile = { source_id: string, 
/**
 * Full path, home folder as `~`.
 */
path: string, 
/**
 * Path below the source's root.
 */
relative: string, size: number, modified_at: string, encrypted: boolean, call_ids: Array<string>, };

export type QueuedReport = { id: string, summary: string, queued_at: string, bytes: number, 
/**
 * Deliveries tried so far.
 */
attempts: number, 
/**
 * Why the last one failed; `null` before the first.
 */
last_error: LastError | null, 
/**
 * Where the user agreed to send it (the ticket API's host).
 */
destination: string, 
/**
 * Where reports go now, when that is another place: the report is held there until the
 * user agrees to the new destination.
 */
held_for: string | null, };

export type ReportState = "waiting" | "not_accepted" | "sent";

export type HistoryEntry = { id: string, summary: string, 
/**
 * When it was made (queued).
 */
made_at: string, state: ReportState, ticket_id: string | null, ticket_url: string | null, 
/**
 * Why it waits or was refused, in words.
 */
detail: string | null, };

export type QueuedReports = { reports: Array<QueuedReport>, warnings: Array<string>, };

export type LastError = { code: ErrorCode, message: string, 
/**
 * The network or the server may recover: the outbox tries again on its own.
 */
retryable: boolean, };

export type FlushSummary = { delivered: Array<Delivered>, failed: Array<NotDelivered>, 
/**
 * Folders in the outbox that are not readable reports.
 */
problems: Array<string>, };

export type NotDelivered = { id: string, code: ErrorCode, message: string, };

export type Delivered = { bundle_id: string, ticket_id: string, ticket_url: string, summary: string, queued_at: string, sent_at: string, bundle_sha256: string, bundle_bytes: number, };
