//! The redaction engine from outside: a labelled corpus of log lines (what must go, what must
//! stay), consistency across files and threads, streaming, non-UTF-8 input and the bound on huge
//! lines.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{self, BufReader, Read, Write};

use callsupport_redact::{Counts, Kind, MAX_CHUNK, RedactionContext, Redactor};

const USER: &str = "jdoe";
const HOST: &str = "WIN-7F3K2LQ";

fn redactor() -> Redactor {
    Redactor::new(RedactionContext {
        user_name: Some(USER.into()),
        host_name: Some(HOST.into()),
    })
}

/// One ACS call client operations record (the schema and sample of the public reference), as a
/// call-operations source holds it: one JSON object a line.
const ACS_RECORD: &str = r#"{"TenantId":"aaaabbbb-0000-cccc-1111-dddd2222eeee","TimeGenerated":"2024-01-09T17:06:50.3Z","CallClientTimeStamp":"2024-01-09T15:07:56.066Z","OperationName":"CreateView","CallId":"92d800c4-abde-40be-91e9-3814ee786b19","ParticipantId":"2656fd6c-6d4a-451d-a1a5-ce1baefc4d5c","OperationType":"client-api-request","OperationId":"0d987336-37e0-4acc-aba3-e48741d88103","DurationMs":"577","ResultType":"Succeeded","ResultSignature":"200","SdkVersion":"1.19.2.2_beta","UserAgent":"azure-communication-services/1.3.1-beta.1 azsdk-js-communication-calling/1.19.2-beta.2 (javascript_calling_sdk;#clientTag:904f667c-5f25-4729-9ee8-6968b0eaa40b). Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36","ClientInstanceId":"d08a3d05-db90-415f-88a7-87ae74edc1dd","OperationPayload":"{\"StreamType\":\"Video\",\"StreamId\":\"2.0\",\"Source\":\"remote\",\"RemoteParticipantId\":\"remote\"}","Type":"ACSCallClientOperations"}"#;

/// Lines that must come out exactly as they went in.
const KEEP: &[&str] = &[
    ACS_RECORD,
    // The reference sample, pretty-printed, field by field.
    r#"    "TenantId":               "aaaabbbb-0000-cccc-1111-dddd2222eeee","#,
    r#"    "TimeGenerated":          "2024-01-09T17:06:50.3Z","#,
    r#"    "CallClientTimeStamp":    "2024-01-09T15:07:56.066Z","#,
    r#"    "CallId":                 "92d800c4-abde-40be-91e9-3814ee786b19","#,
    r#"    "ParticipantId":          "2656fd6c-6d4a-451d-a1a5-ce1baefc4d5c","#,
    r#"    "OperationId":            "0d987336-37e0-4acc-aba3-e48741d88103","#,
    r#"    "DurationMs":             "577","#,
    r#"    "ResultSignature":        "200","#,
    r#"    "SdkVersion":             "1.19.2.2_beta","#,
    r#"    "UserAgent":              "azure-communication-services/1.3.1-beta.1 azsdk-js-communication-calling/1.19.2-beta.2 (javascript_calling_sdk;#clientTag:904f667c-5f25-4729-9ee8-6968b0eaa40b). Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36","#,
    r#"    "ClientInstanceId":       "d08a3d05-db90-415f-88a7-87ae74edc1dd","#,
    // Ids, versions, times, durations, status codes, ports, counters.
    "EndpointId c3f2a9b4-1d2e-4f5a-8b6c-7d8e9f0a1b2c OperationId 0d987336-37e0-4acc-aba3-e48741d88103",
    "participant 8:acs:1b5cc06b-f352-4571-b1e6-d9b259b7c776_00000005-9e3c-2b7a-0000-0000000000 joined",
    "nil uuid 00000000-0000-0000-0000-000000000000, numeric 12345678-1234-1234-1234-123456789012",
    r#"SdkVersion 1.31.1.0, "sdkVersion":"1.31.1.0", version=1.31.1.0, build 1.19.2.2_beta"#,
    "ACS Calling SDK 1.31.1.0 (v1.31.1.0) on Windows NT 10.0; Win64; x64",
    "Windows 10.0.19045.0 x64, OS build 19045.3930, Edge/120.0.2210.91, OID 1.3.6.1.4.1.311",
    "Join attempt 1 timed out after 10012 ms (ResultSignature 408)",
    "Call ended unexpectedly: code 490 subCode 4521 code=490 code=AADSTS50011",
    "DurationMs=577 ResultSignature=200 status 503 Retry-After: 120",
    "2024-01-09T15:07:56.066+01:00 took PT1.5S (00:00:01.500) at 10:15:30, 10:15:30.123",
    "2024-01-09 15:07:56,123 [WARN ] 09.01.2024 10:15 2024/01/09 range 2024-01-09..2024-01-10",
    "seq 0612345678 bytes 1234567 frames 30 fps 29.97 ratio 16:9 size 1 234 567",
    "Port 5060 -> 443, HTTP/1.1 200 OK, HTTP/2 404, exit code 0",
    "MAC 00:1a:2b:3c:4d:5e at 10:15:30, uptime 12:00:05.250, EUI 00:1a:2b:ff:fe:3c:4d:5e",
    "CallAgent::join() dispatched; std::string ok; Face::add; ::1 loopback; [::]:0",
    "loopback 127.0.0.1 bind 0.0.0.0 mask 255.255.255.0",
    "WWW-Authenticate: Bearer realm=\"contoso\", error=\"invalid_token\"",
    "The bearer token expired; refreshing. Bearer authentication failed",
    "package @azure/communication-calling@1.19.2-beta.2 loaded; icon@2x",
    "GET https://graph.microsoft.com/v1.0/users/42/presence 200",
    "jdoe2 and xjdoe are other people; WIN-7F3K2LQX too; root and admin are generic",
    "token_type=Bearer expires_in=3599 key=F5 sig=abc token=null password=*** secret=${SECRET}",
    r#"{"code":"ab","key":"theme","accessToken":null,"OperationPayload":"{}"}"#,
    "C:\\Users\\Public\\Documents and C:\\Users\\%USERNAME%\\AppData and /home/$USER/x",
];

/// Lines and what they must become (each redacted by a fresh redactor, so numbers start at 1).
const REDACT: &[(&str, &str)] = &[
    // E-mail addresses.
    (
        "2024-01-09T15:07:56.066Z [INFO ] Signed in as jane.doe@contoso.com, tenant 9b1c2d3e-4f50-4a6b-8c7d-9e0f1a2b3c4d",
        "2024-01-09T15:07:56.066Z [INFO ] Signed in as <email-1>, tenant 9b1c2d3e-4f50-4a6b-8c7d-9e0f1a2b3c4d",
    ),
    (
        "Invite sent to Jane.Doe@Contoso.com and jane.doe@contoso.com",
        "Invite sent to <email-1> and <email-1>",
    ),
    (
        "GET /authorize?login_hint=jane.doe%40contoso.com&prompt=none",
        "GET /authorize?login_hint=<email-1>&prompt=none",
    ),
    (
        "<mailto:support+calls@help.contoso.co.uk>",
        "<mailto:<email-1>>",
    ),
    ("From: a@x.com, b@y.org.", "From: <email-1>, <email-2>."),
    (
        "Benutzer Jürgen: Anruf von jürgen@example.com an +49 30 1234567",
        "Benutzer Jürgen: Anruf von <email-1> an <phone-1>",
    ),
    // Phone numbers.
    (
        "2024-01-09 15:07:56,123 INFO Support contact: +1 425 555 0100",
        "2024-01-09 15:07:56,123 INFO Support contact: <phone-1>",
    ),
    (
        "Dialing tel:+14255550100;ext=12 via PSTN",
        "Dialing tel:<phone-1>;ext=12 via PSTN",
    ),
    (
        r#"callee="+44 (0)20 7946 0958" state=Connected"#,
        r#"callee="<phone-1>" state=Connected"#,
    ),
    (
        "Call back (425) 555-0100 or 425-555-0100 or 425.555.0100",
        "Call back <phone-1> or <phone-1> or <phone-1>",
    ),
    (
        "Hotline 020 7946 0958, Paris 06 12 34 56 78",
        "Hotline <phone-1>, Paris <phone-2>",
    ),
    ("Berlin office 030-1234567.", "Berlin office <phone-1>."),
    ("Toll free 1-800-555-0199", "Toll free <phone-1>"),
    (
        "Phone +1 425 555 0100 and +14255550100 again",
        "Phone <phone-1> and <phone-1> again",
    ),
    // IPv4.
    (
        "Network: Wi-Fi, local address 192.168.1.23, gateway 192.168.1.1",
        "Network: Wi-Fi, local address <ipv4-1>, gateway <ipv4-2>",
    ),
    (
        "TURN relay 20.202.0.5:3478 allocated",
        "TURN relay <ipv4-1>:3478 allocated",
    ),
    (
        "ICE candidate:1 1 udp 2122260223 10.0.0.12 54321 typ host",
        "ICE candidate:1 1 udp 2122260223 <ipv4-1> 54321 typ host",
    ),
    (
        "connect https://52.112.95.4/v1/calls failed",
        "connect https://<ipv4-1>/v1/calls failed",
    ),
    (
        r#"subnet 10.1.0.0/16 ip=172.16.5.4 "clientIp":"203.0.113.50""#,
        r#"subnet <ipv4-1>/16 ip=<ipv4-2> "clientIp":"<ipv4-3>""#,
    ),
    // IPv6.
    (
        "local candidate 2001:db8:85a3::8a2e:370:7334 port 50000",
        "local candidate <ipv6-1> port 50000",
    ),
    (
        "peer [fe80::1c2b:3cff:fe4d:5e6f%12]:443",
        "peer [<ipv6-1>%12]:443",
    ),
    ("mapped ::ffff:192.168.1.23 seen", "mapped <ipv6-1> seen"),
    (
        "same 2001:0db8:0000:0000:0000:0000:0000:0001 and 2001:db8::1.",
        "same <ipv6-1> and <ipv6-1>.",
    ),
    // Bearer tokens and Authorization headers.
    (
        "POST /calls Authorization: Bearer 9f8e7d6c5b4a3f2e1d0c",
        "POST /calls Authorization: Bearer <token-1>",
    ),
    (
        r#"header "authorization": "bearer abc.DEF-123_xyz~+/" sent"#,
        r#"header "authorization": "bearer <token-1>" sent"#,
    ),
    (
        "Authorization: Basic dXNlcjpwYXNzd29yZA==",
        "Authorization: Basic <token-1>",
    ),
    (
        "Proxy-Authorization: Negotiate YIIGhgYGKwYBBQUCoIIGejCCBnag",
        "Proxy-Authorization: Negotiate <token-1>",
    ),
    // JWTs.
    (
        "token eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJqYW5lIn0.c2lnbmF0dXJl received",
        "token <jwt-1> received",
    ),
    (
        "Join attempt 2 failed: 500 from https://api.contoso.example/calls?token=eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJqYW5lIn0.c2lnbmF0dXJl",
        "Join attempt 2 failed: 500 from https://api.contoso.example/calls?token=<jwt-1>",
    ),
    (
        "Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJqYW5lIn0.c2lnbmF0dXJl",
        "Authorization: Bearer <jwt-1>",
    ),
    // Connection strings and access keys.
    (
        "CallClient created with endpoint=https://contoso.communication.azure.com/;accesskey=bXlTZWNyZXRLZXkxMjM0NTY3ODkw+/Q==",
        "CallClient created with endpoint=https://contoso.communication.azure.com/;accesskey=<secret-1>",
    ),
    (
        "DefaultEndpointsProtocol=https;AccountName=contosologs;AccountKey=Zm9vYmFyYmF6cXV4MTIzNDU2Nzg5MA==;EndpointSuffix=core.windows.net",
        "DefaultEndpointsProtocol=https;AccountName=contosologs;AccountKey=<secret-1>;EndpointSuffix=core.windows.net",
    ),
    (
        "Endpoint=sb://ns.servicebus.windows.net/;SharedAccessKeyName=RootManageSharedAccessKey;SharedAccessKey=c2VjcmV0a2V5MTIzNDU2Nzg5MA==",
        "Endpoint=sb://ns.servicebus.windows.net/;SharedAccessKeyName=RootManageSharedAccessKey;SharedAccessKey=<secret-1>",
    ),
    (
        "SharedAccessSignature=SharedAccessSignature sr=ns.servicebus.windows.net&sig=AbCdEf0123456789%3D&se=1704844800&skn=Root;x=1",
        "SharedAccessSignature=<secret-1>;x=1",
    ),
    (
        "upload https://contoso.blob.core.windows.net/logs/a.txt?sv=2022-11-02&ss=b&srt=o&sp=rw&se=2024-01-10T00:00:00Z&st=2024-01-09T00:00:00Z&spr=https&sig=AbCdEf0123456789%2BxyZ%3D",
        "upload https://contoso.blob.core.windows.net/logs/a.txt?sv=2022-11-02&ss=b&srt=o&sp=rw&se=2024-01-10T00:00:00Z&st=2024-01-09T00:00:00Z&spr=https&sig=<secret-1>",
    ),
    (
        r#"{"client_secret": "s3cr3t-Value_1", "client_id": "2656fd6c-6d4a-451d-a1a5-ce1baefc4d5c"}"#,
        r#"{"client_secret": "<secret-1>", "client_id": "2656fd6c-6d4a-451d-a1a5-ce1baefc4d5c"}"#,
    ),
    (
        "login user=jdoe password=hunter2!",
        "login user=<user> password=<secret-1>",
    ),
    (
        "config apiKey: 0123456789abcdef",
        "config apiKey: <secret-1>",
    ),
    (
        r#"OperationPayload "{\"accessToken\":\"abcDEF123\",\"StreamId\":\"2.0\"}""#,
        r#"OperationPayload "{\"accessToken\":\"<secret-1>\",\"StreamId\":\"2.0\"}""#,
    ),
    // Secrets in URL query strings (the parameter name stays).
    (
        "redirect https://login.contoso.com/cb?code=0.AAAAbbbbCCCCddddEEEEffff1234&state=xyz",
        "redirect https://login.contoso.com/cb?code=<secret-1>&state=xyz",
    ),
    (
        "GET /media?access_token=ya29.a0AfH6SMBx&key=AIzaSyA1234567890abcdef&n=2",
        "GET /media?access_token=<secret-1>&key=<secret-2>&n=2",
    ),
    (
        "https://h.example/x?password=p%40ss&secret=abc#frag",
        "https://h.example/x?password=<secret-1>&secret=<secret-2>#frag",
    ),
    // The user's name in paths and as a word; the host name.
    (
        "Log folder /home/jdoe/.local/share/contoso/logs",
        "Log folder /home/<user>/.local/share/contoso/logs",
    ),
    (
        "Reading /Users/jane/Library/Logs/Contoso/acs.log",
        "Reading /Users/<user>/Library/Logs/Contoso/acs.log",
    ),
    (
        r"Opened C:\Users\jdoe\AppData\Local\Packages\Contoso\acs_0.blog",
        r"Opened C:\Users\<user>\AppData\Local\Packages\Contoso\acs_0.blog",
    ),
    (
        r#"{"path":"C:\\Users\\Jane Doe\\AppData\\Roaming\\x.log"}"#,
        r#"{"path":"C:\\Users\\<user>\\AppData\\Roaming\\x.log"}"#,
    ),
    (
        r"Signed-in account CONTOSO\jdoe (JDOE, Jdoe)",
        r"Signed-in account CONTOSO\<user> (<user>, <user>)",
    ),
    (
        "Contoso Calling 4.2.0 starting on WIN-7F3K2LQ (user jane.doe@contoso.com)",
        "Contoso Calling 4.2.0 starting on <host> (user <email-1>)",
    ),
    (
        "resolved win-7f3k2lq.contoso.local to 10.0.0.7",
        "resolved <host>.contoso.local to <ipv4-1>",
    ),
    // Several kinds on one line, ids kept between them.
    (
        "CallId 92d800c4-abde-40be-91e9-3814ee786b19 jdoe@contoso.com 192.168.1.23 +1 425 555 0100 v1.31.1.0",
        "CallId 92d800c4-abde-40be-91e9-3814ee786b19 <email-1> <ipv4-1> <phone-1> v1.31.1.0",
    ),
];

fn redacted(redactor: &Redactor, line: &str) -> String {
    let (text, _) = redactor.redact_line(line.as_bytes());
    String::from_utf8(text.into_owned()).expect("UTF-8 in, UTF-8 out")
}

#[test]
fn corpus_is_big_enough_and_covers_every_kind() {
    assert!(
        KEEP.len() + REDACT.len() >= 60,
        "{} lines",
        KEEP.len() + REDACT.len()
    );
    let redactor = redactor();
    let mut total = Counts::default();
    for (input, _) in REDACT {
        total.add(&redactor.redact_line(input.as_bytes()).1);
    }
    for kind in Kind::ALL {
        assert!(total.get(kind) > 0, "no corpus line for {kind:?}");
    }
}

#[test]
fn corpus_lines_to_redact_become_exactly_what_is_expected() {
    let mut wrong = Vec::new();
    for (input, expected) in REDACT {
        let got = redacted(&redactor(), input);
        if got != *expected {
            wrong.push(format!(
                "  in:       {input}\n  expected: {expected}\n  got:      {got}"
            ));
        }
    }
    assert!(
        wrong.is_empty(),
        "{} wrong:\n{}",
        wrong.len(),
        wrong.join("\n\n")
    );
}

#[test]
fn corpus_lines_to_keep_are_unchanged() {
    let redactor = redactor();
    let mut wrong = Vec::new();
    for input in KEEP {
        let (text, counts) = redactor.redact_line(input.as_bytes());
        if &*text != input.as_bytes() || !counts.is_empty() {
            wrong.push(format!(
                "  in:  {input}\n  got: {}",
                String::from_utf8_lossy(&text)
            ));
        }
    }
    assert!(
        wrong.is_empty(),
        "{} changed:\n{}",
        wrong.len(),
        wrong.join("\n\n")
    );
}

#[test]
fn acs_record_fields_support_needs_survive_among_redactions() {
    // The record with an e-mail and an address spliced in: only those go.
    let line = ACS_RECORD.replace(
        r#""Type":"ACSCallClientOperations""#,
        r#""Type":"ACSCallClientOperations","Note":"jane.doe@contoso.com from 192.168.1.23""#,
    );
    let out = redacted(&redactor(), &line);
    for kept in [
        "92d800c4-abde-40be-91e9-3814ee786b19",
        "2656fd6c-6d4a-451d-a1a5-ce1baefc4d5c",
        "0d987336-37e0-4acc-aba3-e48741d88103",
        r#""SdkVersion":"1.19.2.2_beta""#,
        "azsdk-js-communication-calling/1.19.2-beta.2",
        "Chrome/120.0.0.0",
        r#""DurationMs":"577""#,
        r#""ResultSignature":"200""#,
        "2024-01-09T15:07:56.066Z",
    ] {
        assert!(out.contains(kept), "{kept} lost: {out}");
    }
    assert!(out.contains(r#""Note":"<email-1> from <ipv4-1>""#), "{out}");
}

#[test]
fn the_same_value_gets_the_same_token_across_the_files_of_a_bundle() {
    let redactor = redactor();
    let first = "jane@contoso.com from 10.0.0.1 via +1 425 555 0100\nBearer abcdef123456 ok\n";
    let second = "10.0.0.2 then 10.0.0.1; JANE@contoso.com again\naccess_token=abcdef123456\nnew bob@contoso.com\n";
    let mut out_first = Vec::new();
    let mut out_second = Vec::new();
    let counts_first = redactor
        .redact_stream(first.as_bytes(), &mut out_first)
        .unwrap();
    let counts_second = redactor
        .redact_stream(second.as_bytes(), &mut out_second)
        .unwrap();
    assert_eq!(
        String::from_utf8(out_first).unwrap(),
        "<email-1> from <ipv4-1> via <phone-1>\nBearer <token-1> ok\n"
    );
    assert_eq!(
        String::from_utf8(out_second).unwrap(),
        "<ipv4-2> then <ipv4-1>; <email-1> again\naccess_token=<token-1>\nnew <email-2>\n"
    );
    assert_eq!(counts_first.total, 4);
    assert_eq!(counts_second.get(Kind::Ipv4), 2);
    assert_eq!(counts_second.get(Kind::Email), 2);
    assert_eq!(counts_second.get(Kind::Token), 1);
    assert_eq!(counts_second.total, 5);
    assert_eq!(redactor.distinct(Kind::Email), 2);
    assert_eq!(redactor.distinct(Kind::Ipv4), 2);

    // Another bundle, another redactor: numbering starts again.
    let (text, _) = self::redactor().redact_str("10.0.0.2");
    assert_eq!(text, "<ipv4-1>");
}

#[test]
fn streaming_equals_line_by_line() {
    let mut text = String::new();
    for (input, _) in REDACT {
        text.push_str(input);
        text.push('\n');
    }
    for input in KEEP {
        text.push_str(input);
        text.push_str("\r\n");
    }
    text.push_str("last line without newline jane@contoso.com");

    let by_line = redactor();
    let mut expected = Vec::new();
    let mut expected_counts = Counts::default();
    for line in text.as_bytes().split_inclusive(|&byte| byte == b'\n') {
        let (out, counts) = by_line.redact_line(line);
        expected.extend_from_slice(&out);
        expected_counts.add(&counts);
    }

    // A tiny read buffer, so lines arrive in many pieces.
    let streamed = redactor();
    let mut out = Vec::new();
    let counts = streamed
        .redact_stream(BufReader::with_capacity(7, text.as_bytes()), &mut out)
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&out),
        String::from_utf8_lossy(&expected)
    );
    assert_eq!(counts, expected_counts);
    assert!(counts.total > 60, "{counts:?}");

    let (whole, whole_counts) = redactor().redact_str(&text);
    assert_eq!(whole.as_bytes(), expected);
    assert_eq!(whole_counts, expected_counts);
}

#[test]
fn bytes_that_are_not_utf8_pass_through_untouched() {
    let mut input = Vec::new();
    input.extend_from_slice(b"\xff\xfe bin \x00\x01 jane@contoso.com \xc3\x28 ");
    input.extend_from_slice(b"10.0.0.1\x80\n");
    input.extend_from_slice(b"\xe2\x82 only garbage \xf0\x9f\n");
    input.extend_from_slice(b"latin-1 J\xfcrgen 192.168.1.5 \xe9t\xe9\n");
    let mut out = Vec::new();
    let counts = redactor()
        .redact_stream(input.as_slice(), &mut out)
        .unwrap();
    let mut expected = Vec::new();
    expected.extend_from_slice(b"\xff\xfe bin \x00\x01 <email-1> \xc3\x28 ");
    // `10.0.0.1` touches a non-ASCII byte, which counts as part of a word: kept.
    expected.extend_from_slice(b"10.0.0.1\x80\n");
    expected.extend_from_slice(b"\xe2\x82 only garbage \xf0\x9f\n");
    expected.extend_from_slice(b"latin-1 J\xfcrgen <ipv4-1> \xe9t\xe9\n");
    assert_eq!(out, expected);
    assert_eq!(counts.total, 2);
}

/// A reader of `len` bytes of `pattern` repeated, with no newline, made as it is read.
struct Endless {
    pattern: &'static [u8],
    len: u64,
    at: u64,
}

impl Read for Endless {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let left = (self.len - self.at).min(buf.len() as u64) as usize;
        let mut filled = 0;
        while filled < left {
            let from = (self.at % self.pattern.len() as u64) as usize;
            let take = (self.pattern.len() - from).min(left - filled);
            buf[filled..filled + take].copy_from_slice(&self.pattern[from..from + take]);
            filled += take;
            self.at += take as u64;
        }
        Ok(left)
    }
}

/// Records how much it was given, the largest single write, and the `<email-1>` tokens in it.
#[derive(Default)]
struct Measure {
    bytes: u64,
    largest_write: usize,
    tail: Vec<u8>,
    emails: u64,
}

impl Write for Measure {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        const TOKEN: &[u8] = b"<email-1>";
        self.bytes += buf.len() as u64;
        self.largest_write = self.largest_write.max(buf.len());
        // A token may straddle two writes: look at the previous write's tail too.
        let head = &buf[..buf.len().min(TOKEN.len() - 1)];
        let mut joint = std::mem::take(&mut self.tail);
        joint.extend_from_slice(head);
        self.emails += memchr::memmem::find_iter(&joint, TOKEN).count() as u64;
        self.emails += memchr::memmem::find_iter(buf, TOKEN).count() as u64;
        self.tail = buf[buf.len().saturating_sub(TOKEN.len() - 1)..].to_vec();
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[test]
fn a_huge_line_without_newline_is_redacted_in_bounded_pieces() {
    // Eight pieces' worth: the bound is per piece, whatever the length; a 100 MB line behaves the
    // same, only slower in a debug build, which redacts text this dense at a few MB/s.
    const PATTERN: &[u8] = b"user jane@contoso.com from 10.1.2.3 ok ";
    const LEN: u64 = 8 * MAX_CHUNK as u64 + 12_345;
    let reps = LEN / PATTERN.len() as u64;
    let input = Endless {
        pattern: PATTERN,
        len: reps * PATTERN.len() as u64,
        at: 0,
    };
    let mut sink = Measure::default();
    let counts = redactor()
        .redact_stream(BufReader::with_capacity(64 * 1024, input), &mut sink)
        .unwrap();
    // Cuts fall on spaces, so no value is split: every one is found.
    assert_eq!(u64::from(counts.get(Kind::Email)), reps);
    assert_eq!(u64::from(counts.get(Kind::Ipv4)), reps);
    assert_eq!(sink.emails, reps);
    let out_pattern = b"user <email-1> from <ipv4-1> ok ";
    assert_eq!(sink.bytes, reps * out_pattern.len() as u64);
    // Work is done a piece at a time: no write is larger than one redacted piece.
    assert!(
        sink.largest_write <= MAX_CHUNK,
        "largest write {} bytes",
        sink.largest_write
    );

    // Without any place to cut, pieces are cut hard and the bytes still come through unchanged.
    let solid = Endless {
        pattern: b"x",
        len: 3 * MAX_CHUNK as u64 + 11,
        at: 0,
    };
    let mut sink = Measure::default();
    let counts = redactor()
        .redact_stream(BufReader::new(solid), &mut sink)
        .unwrap();
    assert!(counts.is_empty());
    assert_eq!(sink.bytes, 3 * MAX_CHUNK as u64 + 11);
    assert!(sink.largest_write <= MAX_CHUNK);
}

#[test]
fn four_threads_sharing_one_redactor_agree_on_every_token() {
    let values: Vec<String> = (0..40)
        .map(|i| format!("user{i}@contoso.com 10.9.{}.{} ", i / 10, i % 10 + 1))
        .collect();
    let redactor = redactor();
    let outputs: Vec<Vec<(String, String)>> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..4)
            .map(|thread| {
                let redactor = &redactor;
                let values = &values;
                scope.spawn(move || {
                    // Each thread meets the values in its own order, many times.
                    let mut pairs = Vec::new();
                    for round in 0..25 {
                        for k in 0..values.len() {
                            let i = (k * (2 * thread + 1) + round) % values.len();
                            let line = &values[i];
                            let (out, _) = redactor.redact_line(line.as_bytes());
                            pairs
                                .push((line.clone(), String::from_utf8(out.into_owned()).unwrap()));
                        }
                    }
                    pairs
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|handle| handle.join().unwrap())
            .collect()
    });
    let mut seen: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (line, out) in outputs.into_iter().flatten() {
        assert!(
            out.starts_with("<email-") && out.contains(" <ipv4-"),
            "{out}"
        );
        seen.entry(line).or_default().insert(out);
    }
    assert_eq!(seen.len(), values.len());
    for (line, outs) in &seen {
        assert_eq!(outs.len(), 1, "{line} got {outs:?}");
    }
    let distinct: BTreeSet<&String> = seen.values().flatten().collect();
    assert_eq!(distinct.len(), values.len(), "two values share a token");
    assert_eq!(redactor.distinct(Kind::Email), 40);
    assert_eq!(redactor.distinct(Kind::Ipv4), 40);
}

#[test]
fn the_demo_logs_lose_their_personal_details_and_keep_their_ids() {
    let dir = tempfile::tempdir().unwrap();
    callsupport_demo::write_demo_logs(dir.path(), chrono::Utc::now()).unwrap();
    let redactor = Redactor::new(RedactionContext {
        user_name: Some("jane.doe".into()),
        host_name: Some(HOST.into()),
    });

    let app = std::fs::read(dir.path().join("app/calling-app.log")).unwrap();
    let mut out = Vec::new();
    let counts = redactor.redact_stream(app.as_slice(), &mut out).unwrap();
    let out = String::from_utf8(out).unwrap();
    for gone in [
        "jane.doe@contoso.com",
        "WIN-7F3K2LQ",
        "192.168.1.23",
        "192.168.1.1",
        "eyJ",
        "425 555 0100",
    ] {
        assert!(!out.contains(gone), "{gone} left in:\n{out}");
    }
    for kept in [
        "9b1c2d3e-4f50-4a6b-8c7d-9e0f1a2b3c4d",
        "Contoso Calling 4.2.0",
        "10012 ms (ResultSignature 408)",
        "code 490 subCode 4521",
        "403 (policy)",
    ] {
        assert!(out.contains(kept), "{kept} lost:\n{out}");
    }
    assert_eq!(counts.get(Kind::Email), 2);
    assert_eq!(counts.get(Kind::Ipv4), 2);
    assert_eq!(counts.get(Kind::Jwt), 1);
    assert_eq!(counts.get(Kind::Phone), 1);
    assert_eq!(counts.get(Kind::Host), 1);

    // The call-operations records hold ids, versions, durations and codes only: unchanged.
    let ops_dir = dir.path().join("call-operations");
    let ops_file = std::fs::read_dir(&ops_dir)
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    let ops = std::fs::read(ops_file).unwrap();
    let mut out = Vec::new();
    let counts = redactor.redact_stream(ops.as_slice(), &mut out).unwrap();
    assert!(counts.is_empty(), "{counts:?}");
    assert_eq!(out, ops);
    assert!(ops.len() > 1000);
}
