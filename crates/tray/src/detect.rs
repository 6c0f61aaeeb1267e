//! Proactive detection in the agent: a detection pass ([`callsupport_desk::detect`]) every few
//! seconds on the background thread; a prompt becomes a desktop notification ([`crate::notify`])
//! whose answers come back here (*Don't ask again for this app*) or to the event loop (*Report
//! it*, which starts the app on the report screen filled from the detection).

use std::path::PathBuf;
use std::sync::mpsc::{Receiver, Sender, channel};

use callsupport_desk::config::Config;
use callsupport_desk::detect::watch::Watcher;
use chrono::{Local, Utc};
use tao::event_loop::EventLoopProxy;

use crate::AgentEvent;

/// What a notification's answer asks of the watcher.
pub enum Answer {
    /// Never prompt for this source (app) again.
    Mute(String),
}

pub struct Detecting {
    watcher: Option<Watcher>,
    data_dir: PathBuf,
    answers: Receiver<Answer>,
    answer: Sender<Answer>,
    proxy: EventLoopProxy<AgentEvent>,
}

impl Detecting {
    pub fn new(
        config: Option<&Config>,
        data_dir: PathBuf,
        proxy: EventLoopProxy<AgentEvent>,
    ) -> Detecting {
        let (answer, answers) = channel();
        let mut detecting = Detecting {
            watcher: None,
            data_dir,
            answers,
            answer,
            proxy,
        };
        if let Some(config) = config {
            detecting.configure(config);
        }
        detecting
    }

    /// Follows `config`'s logs and rules from now on (the positions read so far are kept).
    pub fn configure(&mut self, config: &Config) {
        self.watcher = Some(Watcher::new(config, &self.data_dir));
    }

    /// One pass: answers taken in, new lines read, what is over judged, a prompt shown.
    pub fn tick(&mut self) {
        let Some(watcher) = &mut self.watcher else {
            return;
        };
        while let Ok(Answer::Mute(source)) = self.answers.try_recv() {
            log::info!("detection: the user asked not to be asked again about {source}");
            watcher.mute(&source);
        }
        let pass = watcher.pass(Utc::now(), Local::now().date_naive());
        if let Some((first, with)) = pass.prompt() {
            crate::notify::prompt(first, &with, self.answer.clone(), self.proxy.clone());
        }
        if let Some(call) = pass.survey {
            let _ = self.proxy.send_event(AgentEvent::Survey(call));
        }
    }
}
