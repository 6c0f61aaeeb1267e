//! Integration tests of `callsupport-redact`: one binary, one module an area.

mod redactor; // Redactor: labelled corpus of log lines, consistency, streaming, bounds, threads
