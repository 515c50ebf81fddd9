#![no_main]
//! EPUB books as a vendor ships them: any bytes read as a book or fail
//! with an error, within the unpacked-size and paragraph caps. The reader
//! takes a path, so each input is written to one file first: the same code
//! path as a book in a bundle.
use berth::content::epub;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let path = std::env::temp_dir().join(format!("berth-fuzz-{}.epub", std::process::id()));
    std::fs::write(&path, data).expect("write the input");
    if let Ok(book) = epub::read(&path) {
        assert!(book.paras.len() <= epub::MAX_PARAS);
        let _ = book.words();
    }
});
