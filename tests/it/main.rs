//! Integration tests: one binary, modules by area, shared helpers.
//! Each test creates everything it needs in a temporary directory.

mod attacks;
mod boundaries;
mod browser;
mod cli;
mod cli_robust;
mod conformance;
mod console;
mod contacts;
mod content;
mod core;
mod crash;
mod helpers;
mod image;
mod input;
mod install;
mod labels;
mod library;
mod limits;
mod mail;
mod messages;
mod postfix;
mod staff;
mod sync;
mod sync_cuts;
mod threats;
mod translations;
mod vector;
