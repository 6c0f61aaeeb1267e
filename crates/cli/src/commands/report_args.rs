//! The report's fields on the command line, shared by `collect` and `report`, and the agreement
//! to the consent statement both ask for before anything is packed ([`ask`], also for
//! `outbox agree`).

use std::io::{BufRead, IsTerminal, Write};
use std::path::PathBuf;

use callsupport_desk::Error;
use callsupport_desk::bundle::manifest::Consent;
use callsupport_desk::collect::scan_sources;
use callsupport_desk::config::Config;
use callsupport_desk::consent::{Destination, Statement};
use callsupport_desk::policy::Policy;
use callsupport_desk::prepare::{Prepared, ReportRequest, prepare};
use callsupport_desk::report::{Category, Report};
use callsupport_desk::support_link;

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
    /// An e-mail address support may answer at (where `privacy.allow_contact_email` allows it).
    #[arg(long, value_name = "EMAIL")]
    contact: Option<String>,
    /// A screenshot (PNG) to attach (where `privacy.allow_screenshot` allows it).
    #[arg(long, value_name = "FILE.png")]
    screenshot: Option<PathBuf>,
    /// A link from support asking for logs for a ticket (`callsupport://report?…`): the report
    /// is added to that ticket. The link is checked first, with the organisation's key.
    #[arg(long, value_name = "URL")]
    link: Option<String>,
    /// Agree to the consent statement without being asked; it is printed all the same.
    #[arg(long)]
    yes: bool,
}

impl ReportArgs {
    /// The report prepared from the disk's sources as the app's consent screen prepares it
    /// (`prepare`, where the organisation's policy is kept), the statement printed and agreed
    /// to: what to pack, and the record of agreeing.
    pub fn prepare_agreed(
        &self,
        config: &Config,
        destination: Destination,
    ) -> Result<(Prepared, Consent), Error> {
        let mut request = self.request(destination == Destination::File);
        if let Some(text) = &self.link {
            let link = crate::output::runtime()?.block_on(support_link::check(
                &config.ticket_api,
                text,
                chrono::Utc::now(),
            ))?;
            eprintln!(
                "support asked for these logs: they are added to ticket {}",
                link.ticket_id
            );
            request.report.ticket_id = Some(link.ticket_id.clone());
            request.report.link = Some(link.url());
        }
        // Call-operations files are read for their calls only when the report names a call.
        let about_calls = !request.report.call_ids.is_empty();
        let (prepared, unavailable) = prepare(config, request, destination, || {
            Ok(scan_sources(config, about_calls)?)
        })?;
        for err in &unavailable {
            eprintln!("warning: {err}; collecting the other sources");
        }
        if !Policy::of(config).collects_logs() {
            eprintln!(
                "note: your organisation does not allow collecting logs (privacy.allow_log_collection); the report carries your words and this computer's basic facts only"
            );
        }
        self.agree(&prepared.statement)?;
        let consent = prepared.consent(config)?;
        Ok((prepared, consent))
    }

    /// What the user asks for; the policy and the report's rules are checked by `prepare`.
    fn request(&self, to_file: bool) -> ReportRequest {
        ReportRequest {
            report: Report {
                description: self.description.clone(),
                category: self.category,
                call_ids: self.call_ids.clone(),
                contact: self.contact.clone().filter(|c| !c.trim().is_empty()),
                ..Report::new(self.summary.clone())
            },
            to_file,
            screenshot: self.screenshot.clone(),
        }
    }

    /// Prints the statement on standard error and asks for agreement on the terminal, or takes
    /// `--yes`. Without a terminal to ask on, `--yes` is required.
    fn agree(&self, statement: &Statement) -> Result<(), Error> {
        let mut err = std::io::stderr().lock();
        let _ = writeln!(err, "What you agree to by going on:\n");
        for paragraph in &statement.paragraphs {
            let _ = writeln!(err, "  {paragraph}");
        }
        if !statement.files.is_empty() {
            let _ = writeln!(err, "\n  Files:");
            for (path, bytes) in &statement.files {
                let _ = writeln!(
                    err,
                    "    {path} ({})",
                    callsupport_desk::bundle::human_bytes(*bytes)
                );
            }
        }
        let _ = writeln!(err);
        if self.yes {
            let _ = writeln!(err, "Agreed (--yes).");
            return Ok(());
        }
        drop(err);
        ask()
    }
}

/// Asks on the terminal whether to go on; without a terminal to ask on, `--yes` is required.
pub fn ask() -> Result<(), Error> {
    if !std::io::stdin().is_terminal() {
        return Err(Error::NotAgreed { asked: false });
    }
    let mut err = std::io::stderr().lock();
    let _ = write!(err, "Agree and go on? [y/N] ");
    let _ = err.flush();
    let mut answer = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut answer)
        .map_err(Error::io("cannot read the answer"))?;
    match answer.trim().to_ascii_lowercase().as_str() {
        "y" | "yes" => Ok(()),
        _ => Err(Error::NotAgreed { asked: true }),
    }
}
