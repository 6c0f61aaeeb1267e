//! The bundle reader on arbitrary bytes: opening, verifying and reading every listed entry must
//! end in a value or an error, never a panic, a hang or unbounded memory.

#![no_main]

use std::io::{Cursor, Read};
use std::path::Path;

use callsupport_bundle::reader::Bundle;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(mut bundle) = Bundle::from_reader(Cursor::new(data), Path::new("fuzz.zip")) else {
        return;
    };
    let _ = bundle.verify();
    let names: Vec<String> = bundle
        .manifest
        .files
        .iter()
        .map(|f| f.path.clone())
        .collect();
    for name in names {
        if let Ok(entry) = bundle.entry(&name) {
            let _ = std::io::copy(&mut entry.take(1 << 20), &mut std::io::sink());
        }
    }
});
