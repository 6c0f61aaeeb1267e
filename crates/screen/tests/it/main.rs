//! Integration tests of `callsupport-screen`: one binary, one module an area.

mod capture; // a window of a known colour, captured where it is; no display, an error in words
