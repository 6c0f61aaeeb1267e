//! The global shortcut that opens the report dialog from any app (`shortcut.report`).

use std::cell::RefCell;
use std::str::FromStr;

use callsupport_desk::shortcut::Shortcut;
use global_hotkey::hotkey::HotKey;
use global_hotkey::{GlobalHotKeyEvent, GlobalHotKeyManager, HotKeyState};
use tao::event_loop::EventLoopProxy;

use crate::AgentEvent;

/// The registered shortcut; one at a time, replaced when the configuration changes.
pub struct Keys {
    /// `None` where the desktop offers no global shortcuts (then there is only the tray).
    manager: Option<GlobalHotKeyManager>,
    current: RefCell<Option<HotKey>>,
}

impl Keys {
    /// Presses reach the event loop as [`AgentEvent::Shortcut`].
    pub fn new(proxy: EventLoopProxy<AgentEvent>) -> Keys {
        GlobalHotKeyEvent::set_event_handler(Some(move |event: GlobalHotKeyEvent| {
            if event.state == HotKeyState::Pressed {
                let _ = proxy.send_event(AgentEvent::Shortcut);
            }
        }));
        let manager = GlobalHotKeyManager::new()
            .inspect_err(|err| log::warn!("no global shortcuts on this desktop: {err}"))
            .ok();
        Keys {
            manager,
            current: RefCell::new(None),
        }
    }

    /// Registers `shortcut` in place of the one before; one taken by another app is logged and
    /// left out, not fatal.
    pub fn set(&self, shortcut: Option<Shortcut>) {
        let Some(manager) = &self.manager else { return };
        if let Some(old) = self.current.borrow_mut().take() {
            let _ = manager.unregister(old);
        }
        let Some(shortcut) = shortcut else {
            log::info!("no report shortcut (shortcut.report is empty)");
            return;
        };
        let registered = HotKey::from_str(shortcut.as_str())
            .map_err(|err| err.to_string())
            .and_then(|key| {
                manager
                    .register(key)
                    .map(|()| key)
                    .map_err(|e| e.to_string())
            });
        match registered {
            Ok(key) => {
                log::info!("report shortcut {shortcut} registered");
                *self.current.borrow_mut() = Some(key);
            }
            Err(err) => log::warn!("report shortcut {shortcut} not registered: {err}"),
        }
    }
}

/// Windows' own `RegisterHotKey`, under Wine: the default shortcut is taken, and one held by
/// another window is refused until it is let go.
#[cfg(all(test, windows))]
mod tests {
    use super::*;
    use callsupport_desk::shortcut::DEFAULT_REPORT_SHORTCUT;

    #[test]
    fn the_report_shortcut_is_registered_and_a_taken_one_refused() {
        let shortcut = Shortcut::parse(DEFAULT_REPORT_SHORTCUT).unwrap();
        let key = HotKey::from_str(shortcut.as_str()).unwrap();
        let first = GlobalHotKeyManager::new().unwrap();
        first.register(key).unwrap();
        let second = GlobalHotKeyManager::new().unwrap();
        assert!(
            second.register(key).is_err(),
            "a shortcut another window holds must be refused"
        );
        first.unregister(key).unwrap();
        second.register(key).unwrap();
        second.unregister(key).unwrap();
    }
}
